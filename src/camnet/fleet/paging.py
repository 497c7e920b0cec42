"""Paging, sorting and filter arithmetic of the fleet dialect's lists (no I/O)."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from camnet.web.numbers import decimal, too_large

T = TypeVar("T")

DEFAULT_PER_PAGE: Final = 15
MAX_PER_PAGE: Final = 100
"""The default of the ``max_page_size`` setting."""


class QueryError(ValueError):
    """A query parameter with a value the dialect does not take; says which and why."""


class PageTooLarge(QueryError):
    """``per_page`` above the node's maximum (a limit: counted in the metrics)."""


@dataclass(frozen=True, slots=True)
class Page:
    number: int
    per_page: int

    @classmethod
    def parse(cls, page: str | None, per_page: str | None, most: int = MAX_PER_PAGE) -> Page:
        """Refuses a ``per_page`` above ``most`` rather than shortening the page: a client
        that asked for everything and silently got part of it would think it had all."""
        if too_large(per_page):
            raise PageTooLarge(f"per_page must be at most {most}")
        number = _positive("page", page, 1)
        size = _positive("per_page", per_page, min(DEFAULT_PER_PAGE, most))
        if size > most:
            raise PageTooLarge(f"per_page must be at most {most}, not {size}")
        return cls(number, size)

    def cut(self, items: Sequence[T]) -> tuple[list[T], dict[str, int]]:
        """The items of this page and the ``meta`` object describing it."""
        total = len(items)
        pages = max(1, math.ceil(total / self.per_page))
        start = (self.number - 1) * self.per_page
        chosen = list(items[start : start + self.per_page])
        meta = {
            "current_page": self.number,
            "from": start + 1 if chosen else 0,
            "last_page": pages,
            "per_page": self.per_page,
            "total": total,
            "to": start + len(chosen) if chosen else 0,
            "total_pages": pages,
        }
        return chosen, meta


def _positive(name: str, raw: str | None, default: int) -> int:
    if raw is None or raw == "":
        return default
    value = decimal(raw)
    if value is None or value < 1:
        raise QueryError(f"{name} must be a positive integer, not {raw[:40]!r}")
    return value


def sort_key(raw: str | None, fields: Sequence[str]) -> tuple[str, bool] | None:
    """``field`` or ``-field`` (descending) → (field, descending); None when unsorted."""
    if raw is None or raw == "":
        return None
    descending = raw.startswith("-")
    name = raw.removeprefix("-").removeprefix("+")
    if name not in fields:
        raise QueryError(f"sort must be one of {', '.join(fields)} (prefix - to descend)")
    return name, descending


def sorted_by(
    items: Sequence[Mapping[str, Any]], key: tuple[str, bool] | None, tiebreak: str
) -> list[Mapping[str, Any]]:
    """Stable sort by one field, ``None`` and strings compared case-insensitively."""
    if key is None:
        return list(items)
    name, descending = key

    def value(item: Mapping[str, Any]) -> tuple[Any, ...]:
        raw = item.get(name)
        if isinstance(raw, str):
            return (0, raw.casefold(), str(item.get(tiebreak)))
        return (0 if raw is not None else 1, raw if raw is not None else 0, str(item[tiebreak]))

    return sorted(items, key=value, reverse=descending)


def online_filter(raw: str | None) -> bool | None:
    """``Online``/``Offline``/``1``/``0`` (any case) → True/False; None when absent."""
    if raw is None or raw == "":
        return None
    lowered = raw.strip().lower()
    if lowered in ("online", "1", "true"):
        return True
    if lowered in ("offline", "0", "false"):
        return False
    raise QueryError(f"is_online must be Online, Offline, 1 or 0, not {raw!r}")
