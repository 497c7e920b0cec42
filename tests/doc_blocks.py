"""The shell and Python examples of README.md and docs/*.md, and how to run them.

Every fenced block whose language is ``sh``/``bash``/``shell`` or ``python`` is an
example. The HTML comment on the line before it says what it needs (docs/testing.md,
"Examples in the docs"):

- ``<!-- example: server -->``: a running camnet (also ``server nats``, ``server mqtt``);
- ``<!-- example: terminal-1 -->``: the README's ``make run``, started by the README test;
- ``<!-- example: skip: REASON -->``: not run, for the reason given;
- no comment: run as it is, with no server; it must pass, or be marked.

A fenced block without a language whose first line looks like a command is refused: it
is an example that hides from this test.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
DOCUMENTS = [REPOSITORY / "README.md", *sorted((REPOSITORY / "docs").glob("*.md"))]
LANGUAGES = {"sh": "shell", "bash": "shell", "shell": "shell", "python": "python", "py": "python"}
NEEDS = frozenset({"server", "nats", "mqtt", "terminal-1"})
FENCE = re.compile(r"^```(?P<language>[\w-]*)[^\n]*\n(?P<code>.*?)^```[ \t]*$", re.M | re.S)
MARKER = re.compile(r"<!--\s*example:\s*(?P<spec>.*?)\s*-->")
LOOKS_LIKE_COMMAND = re.compile(
    r"^\s*(\$ |camnet |curl |python3? |pip |make |\.venv/|apt-get |export |docker |"
    r"systemctl |git |sudo |\. )"
)
DOCUMENTED_ADDRESS = "127.0.0.1:8080"
DOCUMENTED_PORTS = ("8443", "8554")
"""Ports the docs switch on (HTTPS, RTSP); a test gives each a free port instead."""
PLACEHOLDER = re.compile(r"\b(?P<name>[A-Z][A-Z0-9_]*)=…")
SHELL_PREAMBLE = """set -eo pipefail
# An HTTP error is a failed example, not a printed error body.
curl() { command curl --fail-with-body --silent --show-error "$@"; }
"""


@dataclass(frozen=True)
class Block:
    """One fenced block of a document."""

    path: Path
    line: int
    language: str
    code: str
    spec: str | None

    @property
    def id(self) -> str:
        where = self.path.parent.name + "/" if self.path.parent.name == "docs" else ""
        return f"{where}{self.path.name}:{self.line}"

    @property
    def kind(self) -> str | None:
        """``shell`` or ``python`` for an example, None for any other block."""
        return LANGUAGES.get(self.language)

    @property
    def skip_reason(self) -> str | None:
        if self.spec is not None and self.spec.startswith("skip:"):
            return self.spec.removeprefix("skip:").strip()
        return None

    @property
    def needs(self) -> frozenset[str]:
        if self.spec is None or self.skip_reason is not None:
            return frozenset()
        return frozenset(self.spec.split())

    def problems(self) -> list[str]:
        """What is wrong with the block's marking (empty when it is fine)."""
        if self.kind is None:
            first = next((line for line in self.code.splitlines() if line.strip()), "")
            if not self.language and LOOKS_LIKE_COMMAND.match(first):
                return [f"{self.id}: a command in a block without a language: use ```sh"]
            return []
        if self.spec is None:
            return []
        if self.skip_reason == "":
            return [f"{self.id}: 'skip:' needs a reason"]
        unknown = self.needs - NEEDS
        if unknown:
            return [f"{self.id}: unknown needs {sorted(unknown)} (known: {sorted(NEEDS)})"]
        return []


def blocks(path: Path) -> list[Block]:
    """Every fenced block of ``path`` with the marker on the line before it, if any."""
    text = path.read_text()
    found = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip("\n").rsplit("\n", 1)[-1]
        marker = MARKER.search(before)
        found.append(
            Block(
                path,
                text.count("\n", 0, match.start()) + 1,
                match["language"],
                match["code"],
                marker["spec"] if marker else None,
            )
        )
    return found


def examples(paths: list[Path] = DOCUMENTS) -> list[Block]:
    return [block for path in paths for block in blocks(path) if block.kind is not None]


def prepared(block: Block, address: str | None, ports: Mapping[str, str] | None = None) -> str:
    """The block's code as the test runs it: the documented address replaced by the
    server's, documented ports by ``ports``, and each ``NAME=…`` placeholder filled from
    the environment's ``NAME``."""
    code = block.code
    if address is not None:
        code = code.replace(DOCUMENTED_ADDRESS, address)
    for documented, free in (ports or {}).items():
        code = re.sub(rf"(?<=[:=]){documented}\b", free, code)
    if block.kind == "shell":
        code = PLACEHOLDER.sub(lambda m: f'{m["name"]}="${{{m["name"]}}}"', code)
        return SHELL_PREAMBLE + code
    return code


def run(
    block: Block,
    cwd: Path,
    env: Mapping[str, str],
    address: str | None,
    ports: Mapping[str, str] | None = None,
    timeout: float = 90,
) -> subprocess.CompletedProcess[str]:
    """Run one example in a new shell (or Python process) in ``cwd``."""
    code = prepared(block, address, ports)
    interpreter = ["bash"] if block.kind == "shell" else [sys.executable]
    command = [*interpreter, "-c", code]
    return subprocess.run(
        command,
        cwd=cwd,
        env=dict(env),
        text=True,
        capture_output=True,
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return str(probe.getsockname()[1])


def activated_path(venv_bin: Path) -> str:
    """``PATH`` as ``. .venv/bin/activate`` leaves it."""
    return f"{venv_bin}{os.pathsep}{os.environ.get('PATH', '')}"
