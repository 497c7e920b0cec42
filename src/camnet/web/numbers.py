"""Decimal integers from the wire (query fields, ``Range``, ``If-Match``, ``Retry-After``).

``str.isdigit`` is true for ``"²"`` and for 5,000 digits, and ``int`` of either raises
``ValueError`` (Python refuses more than 4,300 digits): each was a 500 somewhere
(issue 17, item 9). ``decimal`` takes only ASCII digits and at most ``digits`` of them
(18 by default: every value camnet means fits in a signed 64-bit integer), and says
None for anything else, so the caller answers as it answers any malformed number."""

from __future__ import annotations

import re
from typing import Final

MAX_DIGITS: Final = 18
_DIGITS: Final = re.compile(r"[0-9]+")


def decimal(text: str | None, digits: int = MAX_DIGITS) -> int | None:
    """The integer ``text`` spells with at most ``digits`` ASCII digits, else None."""
    if text is None or len(text) > digits or not _DIGITS.fullmatch(text):
        return None
    return int(text)


def too_large(text: str | None, digits: int = MAX_DIGITS) -> bool:
    """Whether ``text`` is all ASCII digits but more of them than ``digits``: a number
    beyond any limit (a caller that refuses "above the limit" refuses it too)."""
    return text is not None and len(text) > digits and bool(_DIGITS.fullmatch(text))
