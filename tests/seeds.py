"""The vendor documents' own examples, cut out of the seed documents at test time.

camnet's repository holds only what camnet's authors wrote. The vendor documents (the
"seeds") live beside the clone in ``../shared/seeds/`` (CI has ``shared/`` next to the
checkout). The tests that prove a vendor's example works against camnet read the example
from there, change only its constants, and run it. A seed is found by its content, not by
its file name, so a renamed copy still works.

Without the seeds the tests skip with the reason; under ``CI=true`` they fail.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parent.parent
SEEDS = REPOSITORY.parent / "shared" / "seeds"


def seed_containing(marker: str) -> str:
    """The text of the one seed document that contains ``marker``."""
    found = (
        [path for path in sorted(SEEDS.glob("*.txt")) if marker in path.read_text()]
        if SEEDS.is_dir()
        else []
    )
    if len(found) == 1:
        return found[0].read_text()
    reason = f"no single vendor document in {SEEDS} contains {marker!r} (found {len(found)})"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true the seeds beside the clone are required")
    pytest.skip(reason)


def python_example(marker: str, within: str) -> str:
    """The Python example of the seed holding ``within`` that contains ``marker``.

    The c2 document prints its Python examples one after another, each starting with its
    ``#!/usr/bin/python3`` line; one example runs to the next such line or the end.
    """
    text = seed_containing(within)
    shebang = "#!/usr/bin/python3"
    pieces = [shebang + piece for piece in text.split(shebang)[1:]]
    chosen = [piece for piece in pieces if marker in piece]
    assert len(chosen) == 1, f"{len(chosen)} Python examples contain {marker!r}"
    return chosen[0].rstrip() + "\n"


def with_constants(source: str, constants: dict[str, str]) -> str:
    """``source`` with each ``NAME = "…"`` line given a new string value, nothing else."""
    for name, value in constants.items():
        source, count = re.subn(
            rf'^{name} = ".*"$', f'{name} = "{value}"', source, flags=re.MULTILINE
        )
        assert count == 1, f"constant {name} found {count} times"
    return source


def shell_commands(within: str) -> list[str]:
    """Every shell command of the seed holding ``within``: ``curl``/``export`` lines with
    their backslash-continued lines, in the document's order."""
    commands: list[str] = []
    lines = iter(seed_containing(within).splitlines())
    for line in lines:
        if not re.match(r"(curl|export) ", line):
            continue
        command = [line]
        while command[-1].endswith("\\"):
            command.append(next(lines))
        commands.append("\n".join(command))
    return commands
