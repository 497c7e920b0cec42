"""File names from the c2 name variables: prefix + time + postfix, never a path.

The four ``change…Name`` variables are written by clients; a value that could leave
the storage directory (a separator, ``..``) or hide in a listing (control characters)
is refused when written (``problem``), and ``file_name`` sanitises again so that no
stored value, whatever its age, can name a path outside the storage.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Final

NAME_VARIABLES: Final = (
    "changeVideoName",
    "changeImageName",
    "changePostName",
    "changeBackupPostName",
)
MAX_PART: Final = 64
_UNSAFE: Final = re.compile(r"[^A-Za-z0-9._\- ]")


def problem(value: str) -> str | None:
    """Why ``value`` cannot be part of a file name, or None when it can."""
    if len(value) > MAX_PART:
        return f"at most {MAX_PART} characters"
    if any(unicodedata.category(char).startswith("C") for char in value):
        return "control characters are not allowed in a file name"
    if "/" in value or "\\" in value:
        return "path separators are not allowed in a file name"
    if ".." in value:
        return "'..' is not allowed in a file name"
    if value.startswith("."):
        return "a file name part may not start with '.'"
    return None


def sanitise(part: str) -> str:
    """Keep letters, digits, ``._- ``; everything else becomes ``_``; no ``..``."""
    cleaned = _UNSAFE.sub("_", part[:MAX_PART])
    while ".." in cleaned:
        cleaned = cleaned.replace("..", "_")
    return cleaned.strip(" .")


def stamp(epoch: float) -> str:
    """The time part, UTC, sortable and free of ``:`` (FAT file systems refuse it)."""
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H-%M-%S") + f".{int(moment.microsecond / 1000):03d}Z"


def file_name(prefix: str, epoch: float, postfix: str, extension: str) -> str:
    """``<prefix>_<time>_<postfix>.<ext>`` with empty parts left out; a bare name, always."""
    parts = [sanitise(prefix), stamp(epoch), sanitise(postfix)]
    return "_".join(p for p in parts if p) + "." + extension
