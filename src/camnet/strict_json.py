"""JSON input as every face must read it: strict where Python's ``json`` is lenient.

``json.loads`` accepts what cannot be answered or stored later, and each of these once
turned a client's mistake into a 500 (issue 17, item 9):

- ``NaN``, ``Infinity``, ``-Infinity`` (not JSON at all) and numbers such as ``1e999``
  that overflow to infinity: a response holding them cannot be encoded;
- a lone surrogate escape (``"\\ud800"``) in a key or a string: not a Unicode character,
  so it cannot be encoded as UTF-8 for a response, a log line or the database;
- an integer of more than 4,300 digits: Python raises ``ValueError`` (not
  ``JSONDecodeError``) while decoding it, which handlers did not expect.

``loads`` refuses all of them with ``StrictJsonError``, a ``json.JSONDecodeError``, so
every face answers them exactly as it answers any other malformed body (FastAPI, too,
turns a ``JSONDecodeError`` into its 422 ``json_invalid``).
"""

from __future__ import annotations

import json
import math
from typing import Any


class StrictJsonError(json.JSONDecodeError):
    """A body that is not JSON camnet accepts; the message says why."""

    @classmethod
    def because(cls, reason: str, doc: str) -> StrictJsonError:
        """A refusal of the whole document (no position to point at)."""
        error = cls(reason, doc, 0)
        error.args = (reason,)
        return error

    def __str__(self) -> str:
        return str(self.args[0])


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text[:40]} is too large")
    return number


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _check(value: Any) -> None:
    """Refuse a string (key or value) that is not encodable text, at any depth."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _lone_surrogate(item):
                raise ValueError("a string holds a lone surrogate (\\ud800-\\udfff)")
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)


def loads(data: str | bytes | bytearray, **options: Any) -> Any:
    """``json.loads`` that refuses what the module's docstring lists. ``options`` go to
    ``json.loads`` (``object_pairs_hook``...); ``parse_constant`` and ``parse_float``
    are this module's. ``UnicodeDecodeError`` (bytes that are not UTF-8) passes
    through, as from ``json.loads``."""
    text = data if isinstance(data, str) else None
    build = options.pop("object_pairs_hook", dict)

    def checked(pairs: list[tuple[str, Any]]) -> Any:
        # Every member, before a repeated key can hide one: {"a": "\ud800", "a": 1}.
        _check(pairs)
        return build(pairs)

    try:
        value = json.loads(
            data,
            parse_constant=_no_constant,
            parse_float=_finite,
            object_pairs_hook=checked,
            **options,
        )
    except json.JSONDecodeError as exc:
        raise StrictJsonError(exc.msg, exc.doc, exc.pos) from None
    except UnicodeDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # NaN, 1e999, 4,301 digits, deep nesting
        raise StrictJsonError.because(str(exc), text or "") from None
    try:
        _check(value)
    except ValueError as exc:
        raise StrictJsonError.because(str(exc), text or "") from None
    return value
