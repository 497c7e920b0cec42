"""Tag moments: ``createTag``'s ``creationTime`` as unix seconds or the seed's string form
``yyyy-MM-dd'T'HH:mm:sszzz`` (pure)."""

from __future__ import annotations

from datetime import datetime

from camnet.state.schema import JsonValue


class TagError(ValueError):
    pass


def parse_time(value: JsonValue) -> float | None:
    """Unix seconds of a ``creationTime``; None when absent; TagError when malformed."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise TagError("creationTime must be unix seconds or 'yyyy-MM-ddTHH:mm:ss+zz:zz'")
    if isinstance(value, int | float):
        if value < 0:
            raise TagError("creationTime must not be negative")
        return float(value)
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
        return moment.timestamp()
    raise TagError("creationTime must be unix seconds or a timestamp string")


def text(value: JsonValue, name: str, limit: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TagError(f"{name} must be a string")
    if len(value) > limit:
        raise TagError(f"{name} is limited to {limit} characters")
    return value
