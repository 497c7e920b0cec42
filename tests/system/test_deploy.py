"""The Dockerfile's recipe and the systemd unit, run as far as this machine allows.

No container engine runs here, so the Dockerfile is followed step by step instead: its
``COPY`` sources alone make the build context, Debian's ``python3`` (the image's, 3.11)
makes the venv, ``pip install .`` installs, and its ``CMD`` runs with its ``ENV`` until
``/readyz`` answers. The systemd unit passes ``systemd-analyze verify`` and its
``ExecStart`` with its ``Environment`` serves and stops on SIGTERM within
``TimeoutStopSec``. What differs, and why: the data directory is a temporary folder and
the address ``127.0.0.1:0`` (this machine is shared); ``ExecStart`` names this venv's
``camnet`` for ``verify``, which checks that the program exists.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.support import READY_PREFIX, clean_env

REPOSITORY = Path(__file__).resolve().parents[2]
DOCKERFILE = REPOSITORY / "Dockerfile"
UNIT = REPOSITORY / "deploy" / "camnet.service"
DEBIAN_PYTHON = Path("/usr/bin/python3")


def _serve_until_ready(command: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert process.stdout is not None
    for line in process.stdout:
        if line.startswith(READY_PREFIX):
            url = line.removeprefix(READY_PREFIX).strip()
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
            return process
    process.wait(10)
    raise AssertionError(f"{command} did not start (exit {process.returncode})")


def _stop(process: subprocess.Popen[str], within: float) -> int:
    process.send_signal(signal.SIGTERM)
    status = process.wait(within)
    assert process.stdout is not None
    rest = process.stdout.read()
    process.stdout.close()
    assert "Traceback" not in rest, rest
    return status


def _instructions(text: str) -> list[tuple[str, str]]:
    joined = re.sub(r"\\\n", " ", text)
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in joined.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]


@pytest.mark.timeout(900)
def test_the_dockerfile_recipe_builds_and_serves(tmp_path: Path) -> None:
    if not DEBIAN_PYTHON.exists():
        pytest.skip("no Debian python3 at /usr/bin/python3")
    steps = _instructions(DOCKERFILE.read_text())
    assert steps[0] == ("FROM", "debian:bookworm-slim")
    context = tmp_path / "opt-camnet"
    context.mkdir()
    for kind, argument in steps:
        if kind == "COPY":
            *sources, target = argument.split()
            for source in sources:
                origin = REPOSITORY / source
                destination = context / (source if target in ("./", ".") else target)
                if origin.is_dir():
                    shutil.copytree(
                        origin, destination, ignore=shutil.ignore_patterns("*.egg-info")
                    )
                else:
                    shutil.copy(origin, destination)
    env = clean_env({"HOME": str(tmp_path)})
    venv = context / ".venv"
    subprocess.run([str(DEBIAN_PYTHON), "-m", "venv", str(venv)], check=True, env=env)
    install = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", "."],
        cwd=context,
        env={**env, "PIP_CACHE_DIR": str(Path.home() / ".cache" / "pip")},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    image_env = dict(
        pair.split("=", 1) for kind, argument in steps if kind == "ENV" for pair in argument.split()
    )
    assert image_env == {"CAMNET_DATA_DIR": "/var/lib/camnet", "CAMNET_API_ADDR": "0.0.0.0:8080"}
    (command,) = [json.loads(argument) for kind, argument in steps if kind == "CMD"]
    command[0] = command[0].replace("/opt/camnet", str(context))
    run_env = {**env, "CAMNET_DATA_DIR": str(tmp_path / "data"), "CAMNET_API_ADDR": "127.0.0.1:0"}
    process = _serve_until_ready(command, run_env)
    assert _stop(process, 15) == -signal.SIGTERM


def test_the_systemd_unit_verifies_and_its_command_serves(tmp_path: Path) -> None:
    unit = UNIT.read_text()
    camnet = Path(sys.executable).parent / "camnet"
    local = tmp_path / "camnet.service"
    local.write_text(unit.replace("/opt/camnet/.venv/bin/camnet", str(camnet)))
    if shutil.which("systemd-analyze") is not None:
        verified = subprocess.run(
            ["systemd-analyze", "verify", str(local)],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert verified.returncode == 0, verified.stderr
        assert "Unknown" not in verified.stderr, verified.stderr
    environment = dict(
        line.removeprefix("Environment=").split("=", 1)
        for line in unit.splitlines()
        if line.startswith("Environment=")
    )
    assert environment["CAMNET_DATA_DIR"] == "/var/lib/camnet"
    (exec_start,) = [
        line.split("=", 1)[1] for line in unit.splitlines() if line.startswith("ExecStart=")
    ]
    command = exec_start.replace("/opt/camnet/.venv/bin/camnet", str(camnet)).split()
    stop_within = float(re.search(r"^TimeoutStopSec=(\d+)$", unit, re.M)[1])  # type: ignore[index]
    env = clean_env(
        {**environment, "CAMNET_DATA_DIR": str(tmp_path / "data"), "CAMNET_API_ADDR": "127.0.0.1:0"}
    )
    process = _serve_until_ready(command, env)
    assert _stop(process, stop_within) == -signal.SIGTERM  # KillSignal: a clean stop
