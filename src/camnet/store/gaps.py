"""A cursor over a journal's ids that does not skip an id committed late.

On SQLite writers are serialised, so ids commit in order and "everything after id N" is a
complete cursor. On PostgreSQL a sequence hands out ids at insert time and transactions
commit in any order: while id 10's transaction is still open, id 11 may already be
visible. A reader that moved its cursor to 11 would never see 10.

``GapCursor`` keeps the committed position (every id up to it has been handled) and,
above it, the ids it has handled already and the *gaps*, missing ids with the time
they were first seen missing. The position moves over a gap only once the gap has been
missing for ``settle`` seconds (then its transaction rolled back: PostgreSQL's sequences
leave holes on rollback). Ids above a gap are handled at once, so a gap delays nothing
but the position. Pure arithmetic, no I/O: the caller reads the ids and persists the
position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Gap:
    """Ids ``low``..``high`` (inclusive) missing since ``since``."""

    low: int
    high: int
    since: float


@dataclass
class GapCursor:
    """The position over a journal, the handled ids above it and the open gaps."""

    settle: float
    position: int = 0
    handled: set[int] = field(default_factory=set)
    gaps: list[Gap] = field(default_factory=list)

    def fresh(self, ids: Iterable[int]) -> list[int]:
        """The ids (read after ``position``) not handled yet, in order."""
        return sorted(i for i in set(ids) if i > self.position and i not in self.handled)

    def _split(self, low: int, high: int, now: float) -> list[Gap]:
        """Ids ``low``..``high`` missing now, as gaps that keep the time each part was
        first seen missing (``now`` for the parts missing for the first time)."""
        parts: list[Gap] = []
        at = low
        for gap in sorted(self.gaps, key=lambda g: g.low):
            if gap.high < at or gap.low > high:
                continue
            if gap.low > at:
                parts.append(Gap(at, gap.low - 1, now))
            end = min(gap.high, high)
            parts.append(Gap(max(gap.low, at), end, gap.since))
            at = end + 1
        if at <= high:
            parts.append(Gap(at, high, now))
        return parts

    def advance(self, position: int, ids: Iterable[int], now: float) -> GapCursor:
        """The cursor after the ids read beyond ``position`` (the stored position) have
        been handled; ``self`` is left as it was, so the caller can apply the result only
        once its transaction committed. ``ids`` must be every id after ``position`` up to
        the largest one read (a prefix of the journal in id order)."""
        seen = sorted({i for i in ids if i > position} | {i for i in self.handled if i > position})
        gaps: list[Gap] = []
        expected = position + 1
        for id_ in seen:
            if id_ > expected:
                gaps.extend(self._split(expected, id_ - 1, now))
            expected = id_ + 1
        new_position = position
        for id_ in seen:
            before = [g for g in gaps if new_position < g.low and g.high < id_]
            if any(now - g.since < self.settle for g in before):
                break
            new_position = id_
        return GapCursor(
            self.settle,
            new_position,
            {i for i in seen if i > new_position},
            [g for g in gaps if g.high > new_position],
        )
