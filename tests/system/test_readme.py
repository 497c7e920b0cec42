"""README.md, line by line, as a new user runs it: a clean clone, ``make run`` in one
terminal, every other README command in order in a new shell, then the SDK installed
from the checkout into another project's virtual environment.

What it does differently from a reader, and why:
- ``CAMNET_API_ADDR=127.0.0.1:0`` (and ZeroMQ/Gateway ports 0): this machine runs many
  servers at once; the README's ``127.0.0.1:8080`` is replaced by the address printed;
- ``HOME`` is a temporary folder (the data directory starts empty), while pip keeps the
  machine's own cache (``PIP_CACHE_DIR``), so installing needs no download twice;
- the placeholders ``TOKEN=…`` and ``CAMNET_PASSWORD=…`` get the secrets ``make run``
  printed, as a reader pastes them; ``CAMNET_SERVER`` is the address printed.
Blocks marked ``skip`` are not run (the marker says why).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doc_blocks import REPOSITORY, Block, blocks, prepared
from tests.support import READY_PREFIX, SECRETS_RULE, clean_env

README = REPOSITORY / "README.md"
INSTALL_WITHIN = 600.0


def _reader_env(home: Path) -> dict[str, str]:
    """A new terminal's environment: no virtual environment, no camnet settings."""
    env = clean_env({"HOME": str(home)})
    for key in ("VIRTUAL_ENV", "PYTHONPATH", "XDG_DATA_HOME", "XDG_CONFIG_HOME"):
        env.pop(key, None)
    venv_bins = {str(Path(sys.prefix) / "bin"), str(Path(sys.executable).parent)}
    path = [p for p in env.get("PATH", "").split(os.pathsep) if p and p not in venv_bins]
    env["PATH"] = os.pathsep.join(path)
    env["PIP_CACHE_DIR"] = os.environ.get("PIP_CACHE_DIR") or str(Path.home() / ".cache" / "pip")
    return env


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean clone of this repository's committed state, in ``…/camnet``."""
    if shutil.which("make") is None or shutil.which("git") is None:
        pytest.skip("make and git are needed to follow the README")
    where = tmp_path_factory.mktemp("reader") / "camnet"
    subprocess.run(
        ["git", "clone", "--quiet", str(REPOSITORY), str(where)], check=True, timeout=120
    )
    return where


class Terminal1:
    """``make run`` in the clone, its output collected line by line."""

    def __init__(self, clone: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.process = subprocess.Popen(
            ["make", "run"],
            cwd=clone,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C goes to the whole foreground group
        )
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait_for_secrets(self) -> tuple[str, dict[str, str]]:
        """The listening URL and the secrets of the framed block after it."""
        deadline = time.monotonic() + INSTALL_WITHIN
        while self.lines.count(SECRETS_RULE) < 2:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("make run did not start:\n" + "\n".join(self.lines))
            time.sleep(0.2)
        url = next(line for line in self.lines if line.startswith(READY_PREFIX))
        secrets = dict(
            re.findall(r"^  (admin password|API-User token) : (\S+)$", "\n".join(self.lines), re.M)
        )
        return url.removeprefix(READY_PREFIX).strip(), secrets

    def ctrl_c(self) -> int:
        os.killpg(self.process.pid, signal.SIGINT)
        status = self.process.wait(30)
        self._pump.join(5)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return status


@pytest.fixture(scope="module")
def terminal_1(clone: Path) -> Iterator[tuple[Terminal1, str, dict[str, str], dict[str, str]]]:
    env = _reader_env(clone.parent / "home")
    server_env = {
        **env,
        "CAMNET_API_ADDR": "127.0.0.1:0",
        "CAMNET_ZMQ_PUBLISH_PORT": "0",
        "CAMNET_ZMQ_SUBSCRIBE_PORT": "0",
        "CAMNET_GATEWAY_PORT": "0",
    }
    terminal = Terminal1(clone, server_env)
    try:
        url, secrets = terminal.wait_for_secrets()
        yield terminal, url, secrets, env
    finally:
        if terminal.process.poll() is None:
            terminal.ctrl_c()


def _as_shell(block: Block, address: str) -> str:
    code = prepared(block, address)
    if block.kind == "python":
        return f"python - <<'README_PYTHON'\n{code}README_PYTHON\n"
    return code


@pytest.mark.timeout(900)
def test_the_readme_line_by_line_on_a_clean_clone(
    clone: Path, terminal_1: tuple[Terminal1, str, dict[str, str], dict[str, str]]
) -> None:
    terminal, url, secrets, env = terminal_1
    assert set(secrets) == {"admin password", "API-User token"}, terminal.lines
    readme = [block for block in blocks(clone / "README.md") if block.kind is not None]
    assert [b.needs for b in readme if "terminal-1" in b.needs] == [frozenset({"terminal-1"})]
    steps = [b for b in readme if b.skip_reason is None and "terminal-1" not in b.needs]
    assert all(b.needs == {"server"} for b in steps), [b.id for b in steps]
    address = url.removeprefix("http://")
    script = "".join(f"echo '### {b.id}' >&2\n{_as_shell(b, address)}\n" for b in steps)
    # A new terminal: camnet is not on the PATH until the README says how.
    reader = {
        **env,
        "TOKEN": secrets["API-User token"],
        "CAMNET_PASSWORD": secrets["admin password"],
        "CAMNET_SERVER": url,  # the client's default is the README's 127.0.0.1:8080
    }
    assert shutil.which("camnet", path=reader["PATH"]) is None
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=clone.parent,
        env=reader,
        text=True,
        capture_output=True,
        timeout=300,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 0, f"--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    out = done.stdout
    assert '"light0":' in out  # the c2 reads
    assert '{"light0":true}' in out.replace(" ", "")  # the OAuth app reads /api
    assert "(1080, 1920, 3)" in out  # the SDK example
    assert (clone / "now.jpg").read_bytes()[:3] == b"\xff\xd8\xff"

    status = terminal.ctrl_c()
    output = "\n".join(terminal.lines)
    assert "Traceback" not in output, output
    assert "Error 130" in output, output  # make reports camnet's Ctrl-C exit status
    assert status in (-signal.SIGINT, 2, 130), output  # make ends by the signal too


@pytest.mark.timeout(900)
def test_the_sdk_installs_from_the_checkout(clone: Path) -> None:
    """README: "``pip install /path/to/camnet``" into another project's environment."""
    env = _reader_env(clone.parent / "home-sdk")
    project = clone.parent / "my-project"
    subprocess.run([sys.executable, "-m", "venv", str(project / ".venv")], check=True, env=env)
    python = project / ".venv" / "bin" / "python"
    install = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(clone)],
        env=env,
        capture_output=True,
        text=True,
        timeout=INSTALL_WITHIN,
        check=False,
    )
    assert install.returncode == 0, install.stderr
    check = subprocess.run(
        [str(python), "-c", "from camnet.client import Client, Password; print(Client.__name__)"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=project,
    )
    assert check.stdout.strip() == "Client", check.stderr
