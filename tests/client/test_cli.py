"""The client commands: ``main([...])`` against a real server, ``--json`` shapes asserted
exactly, exit statuses, and one run as a subprocess with the server from the environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from camnet.cli import main
from tests.client.helpers import Setup, record_once
from tests.support import clean_env


@pytest.fixture(autouse=True)
def no_outside_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test gives: no CAMNET_* from the outside, no ~/.config file."""
    for name in [n for n in __import__("os").environ if n.startswith("CAMNET_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)


def run(setup: Setup, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    flags = ["--server", setup.url, "--user", "admin", "--password", setup.server.admin_password]
    status = main([*args, *flags])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def run_json(setup: Setup, capsys: pytest.CaptureFixture[str], *args: str) -> object:
    status, out, err = run(setup, capsys, *args, "--json")
    assert status == 0, err
    return json.loads(out)


def test_get_and_set_with_values_typed_by_the_server(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    answer = run_json(
        setup, capsys, "set", "light0=off", "recordingFps=15", "changeVideoName=clip 1"
    )
    assert answer == {"light0": False, "recordingFps": 15, "changeVideoName": "clip 1"}
    assert run_json(setup, capsys, "get", "light0", "recordingFps") == {
        "light0": False,
        "recordingFps": 15,
    }
    status, out, _ = run(setup, capsys, "get", "light0", "changeVideoName")
    assert status == 0
    assert out == "light0 = false\nchangeVideoName = clip 1\n"
    assert run_json(setup, capsys, "set", 'pan0={"x": 50, "y": 50}')["pan0"] == {  # type: ignore[index]
        "x": 100.0,
        "y": 100.0,
    }


def test_errors_and_usage(setup: Setup, capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(setup, capsys, "set", "light0=true", "warpDrive=9")
    assert status == 1
    assert out == ""
    assert "400: warpDrive: unknown variable" in err
    assert run_json(setup, capsys, "get", "light0") == {"light0": False}  # nothing applied
    status, _, err = run(setup, capsys, "set", "light0=maybe")
    assert status == 2
    assert "light0 is true or false" in err
    status, _, err = run(setup, capsys, "set", "light0")
    assert status == 2
    assert "NAME=VALUE" in err
    assert main(["get", "--server", setup.url]) == 1  # no credentials: 401
    assert "401" in capsys.readouterr().err
    with pytest.raises(SystemExit) as usage:
        main(["record", "sideways"])
    assert usage.value.code == 2


def test_watch_prints_one_json_document_per_message(
    setup: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = run(setup, capsys, "watch", "--count", "2", "--json")
    assert status == 0, err
    first, second = (json.loads(line) for line in out.splitlines())
    assert set(first) == {"initial", "values"}
    assert first["initial"] is True
    assert "record" in first["values"]
    assert second["initial"] is False
    assert set(second) == {"initial", "values"}


def test_snapshot_record_tag_and_recordings(
    setup: Setup, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run_json(setup, capsys, "set", "recordingResolution=HD")
    target = tmp_path / "frame.jpg"
    shot = run_json(setup, capsys, "snapshot", "-o", str(target))
    assert shot == {
        "file": str(target),
        "bytes": target.stat().st_size,
        "width": 1280,
        "height": 720,
    }
    assert target.read_bytes()[:2] == b"\xff\xd8"

    assert run_json(setup, capsys, "record", "stop") == {"record": "stop"}
    with setup.admin() as client:
        recording = record_once(client)
    tag = run_json(setup, capsys, "tag", "gate", "--note", "north", "--time", str(recording.start))
    assert isinstance(tag, dict)
    assert set(tag) == {
        "id",
        "creationTime",
        "time",
        "title",
        "note",
        "created",
        "version",
        "inRecording",
    }
    assert tag["inRecording"] is True  # tagged inside the recording just made
    assert (tag["title"], tag["note"], tag["version"]) == ("gate", "north", 1)

    listing = run_json(setup, capsys, "recordings", "list", "--kind", "manual", "--tagged")
    assert isinstance(listing, dict)
    assert set(listing) == {"recordings", "total", "page", "perPage"}
    assert [r["id"] for r in listing["recordings"]] == [recording.id]
    assert (listing["total"], listing["page"], listing["perPage"]) == (1, 1, 20)
    assert listing["recordings"][0]["tagged"] is True

    output = tmp_path / "clip.mkv"
    output.with_name("clip.mkv.part").write_bytes(b"\x1a\x45\xdf\xa3")  # an interrupted start
    fetched = run_json(
        setup, capsys, "recordings", "download", str(recording.id), "-o", str(output)
    )
    assert fetched == {
        "id": recording.id,
        "file": str(output),
        "bytes": recording.size,
        "resumedFrom": 4,
    }
    status, _, err = run(setup, capsys, "recordings", "download", "999999", "-o", str(output))
    assert status == 1
    assert "404: recording 999999 not found" in err

    devices = run_json(setup, capsys, "devices")
    assert isinstance(devices, dict)
    assert set(devices) == {"devices", "total"}
    assert devices["total"] == len(devices["devices"]) >= 1
    assert {"uuid", "name", "is_online"} <= set(devices["devices"][0])


def test_as_a_subprocess_with_settings_from_env_and_config(setup: Setup, tmp_path: Path) -> None:
    config = tmp_path / "client.toml"
    config.write_text(f'server = "{setup.url}"\nuser = "admin"\npassword = "wrong-one"\n')
    env = {
        "CAMNET_CONFIG": str(config),
        "CAMNET_PASSWORD": setup.server.admin_password,
        "CAMNET_USER": "admin",
    }
    result = subprocess.run(
        [sys.executable, "-m", "camnet", "get", "record", "--json"],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"record": "stop"}
    assert result.stderr == ""  # no progress bar or chatter off a terminal
