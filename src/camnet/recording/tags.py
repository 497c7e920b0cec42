"""Tag moments: ``createTag``'s ``creationTime`` as unix seconds or the seed's string form
``yyyy-MM-dd'T'HH:mm:sszzz`` (pure)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Final

from camnet.state.schema import JsonValue

LATEST: Final = datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp()
"""The last moment a tag may name: past the year 9999 no ISO 8601 date can show it."""


class TagError(ValueError):
    pass


def parse_time(value: JsonValue) -> float | None:
    """Unix seconds of a ``creationTime``; None when absent; TagError when malformed."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TagError("creationTime must be unix seconds or 'yyyy-MM-ddTHH:mm:ss+zz:zz'")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise TagError("creationTime must be a finite number")
        return _in_range(float(value))
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise TagError(
                f"creationTime {value!r} is not 'yyyy-MM-ddTHH:mm:ss' with a zone such as +01:00"
            ) from None
        if moment.tzinfo is None:
            raise TagError(f"creationTime {value!r} needs a time zone, e.g. +01:00")
        return _in_range(moment.timestamp())
    raise TagError("creationTime must be unix seconds or a timestamp string")


def _in_range(moment: float) -> float:
    if moment < 0:
        raise TagError("creationTime must not be negative")
    if moment > LATEST:
        raise TagError("creationTime must be before the year 10000")
    return moment


def text(value: JsonValue, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TagError(f"{name} must be a string")
    if len(value) > limit:
        raise TagError(f"{name} is limited to {limit} characters")
    return value
