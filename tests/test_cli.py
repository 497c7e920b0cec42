"""The command line: settings precedence and errors, and the API-User token commands."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from camnet.settings import load_settings
from tests.support import ServerProcess, clean_env


def camnet(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "camnet", *args],
        capture_output=True,
        text=True,
        env=clean_env(env),
        timeout=60,
        check=False,
    )


def test_cli_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    config = tmp_path / "camnet.toml"
    config.write_text(
        'machine_name = "fromfile"\nlog_level = "error"\napi_addr = "127.0.0.1:9001"\n'
    )
    env = {"CAMNET_MACHINE_NAME": "fromenv", "CAMNET_LOG_LEVEL": "debug"}
    settings = load_settings({"machine_name": "fromcli"}, env, config)
    assert settings.machine_name == "fromcli"
    assert settings.log_level == "debug"
    assert settings.api_addr == "127.0.0.1:9001"
    assert settings.second_head is True
    assert load_settings({}, {}, None).api_addr == "127.0.0.1:8080"


def test_invalid_values_exit_2_naming_key_and_allowed_values(tmp_path: Path) -> None:
    cases = [
        (["serve", "--log-level", "loud"], {}, "log_level", "'debug', 'info'"),
        (["serve", "--api-addr", "nowhere"], {}, "api_addr", "HOST:PORT"),
        (["serve", "--machine-name", "a-b"], {}, "machine_name", "letters, digits or _"),
        (["serve"], {"CAMNET_SECOND_HEAD": "perhaps"}, "second_head", "bool"),
        (["serve"], {"CAMNET_API_USER_WRITE": "light0,warpDrive"}, "api_user_write", "warpDrive"),
    ]
    for args, env, key, allowed in cases:
        result = camnet(*args, "--data-dir", str(tmp_path), env=env)
        assert result.returncode == 2, (args, result.stderr)
        assert key in result.stderr, result.stderr
        assert allowed in result.stderr, result.stderr
    config = tmp_path / "bad.toml"
    config.write_text('colour = "blue"\n')
    result = camnet("serve", "--config", str(config))
    assert result.returncode == 2
    assert "colour" in result.stderr
    assert "known settings" in result.stderr


def test_token_show_and_rotate_against_a_running_server(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    data_dir = str(server.data_dir)
    shown = camnet("token", "show", "--data-dir", data_dir)
    assert shown.returncode == 0
    assert "API-User" in shown.stdout
    assert server.token not in shown.stdout

    rotated = camnet("token", "rotate", "--data-dir", data_dir)
    assert rotated.returncode == 0, rotated.stderr
    new_token = rotated.stdout.strip()
    assert len(new_token) >= 24
    assert new_token != server.token
    deadline = time.monotonic() + 5
    while server.api().status_code != 401:
        assert time.monotonic() < deadline, "the old token still works"
        time.sleep(0.2)
    assert server.api(secret=new_token).status_code == 200

    chosen = camnet("token", "rotate", "--data-dir", data_dir, "--token", "my-own-token-42")
    assert chosen.returncode == 0
    assert chosen.stdout.strip() == "my-own-token-42"


def test_token_commands_before_first_start(tmp_path: Path) -> None:
    assert camnet("token", "show", "--data-dir", str(tmp_path)).returncode == 1
    assert camnet("token", "rotate", "--data-dir", str(tmp_path)).returncode == 1


def test_second_head_can_be_switched_off(fresh_server: ServerProcess) -> None:
    fresh_server.args = ("--no-second-head",)
    server = fresh_server.start()
    state = server.state()
    assert state["cam0Exists"] is True
    assert state["cam1Exists"] is False
    assert state["cfg31"] == "0"
    assert server.api({"cameraSwitch": "true"}).json() == {"cameraSwitch": False}
