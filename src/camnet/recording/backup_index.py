"""An in-memory copy of the backup segments and tag moments the Visual Backup decides on.

Reading 100 000 segment rows from SQLite costs 0.2-2 s on a busy small machine (the
row materialisation, not the query), ten to twenty times the 100 ms the deletion
decision may take, and the capacity variables need the same segments every second.
So the service keeps the closed backup segments of every storage here, oldest first,
each with its tag protection, and the sorted tag moments.

Consistency with the index: the copy is loaded from the database at start, and it is
changed only on the database's single worker thread, right after the transaction that
changed the rows committed (segment closed, rows deleted, tag created/changed/deleted).
Decisions that read it run on that same thread, so they see exactly the committed
index. Deletions it proposes are still guarded in SQL (``index.delete_untagged``), so
even a stale copy could never delete a tagged segment.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from collections.abc import Iterable
from typing import Final

from sqlalchemy import Connection

from camnet.recording import retention

_SEGMENTS: Final = (
    'SELECT storage, id, start, "end", size FROM recordings '
    "WHERE kind = 'backup' AND NOT open ORDER BY storage, start, id"
)
_TAGS: Final = "SELECT time FROM tags ORDER BY time"


class BackupIndex:
    """Closed backup segments per storage (oldest first) and sorted tag moments."""

    def __init__(self) -> None:
        self._segments: dict[str, list[retention.Segment]] = {}
        self._starts: dict[str, list[tuple[float, int]]] = {}
        self._storage_of: dict[int, str] = {}
        self._tags: list[float] = []

    def load(self, connection: Connection) -> None:
        """Rebuild from the index (plain tuples through the driver: no ORM rows)."""
        self._tags = [time for (time,) in connection.exec_driver_sql(_TAGS).fetchall()]
        self._segments, self._starts, self._storage_of = {}, {}, {}
        tags = self._tags
        for storage, id_, start, end, size in connection.exec_driver_sql(_SEGMENTS).fetchall():
            self._append(
                storage,
                retention.Segment(id_, start, end, size, retention.is_tagged(start, end, tags)),
            )

    def _append(self, storage: str, segment: retention.Segment) -> None:
        self._segments.setdefault(storage, []).append(segment)
        self._starts.setdefault(storage, []).append((segment.start, segment.id))
        self._storage_of[segment.id] = storage

    # -- reads -----------------------------------------------------------------------------

    def segments(self, storage: str) -> list[retention.Segment]:
        """The storage's closed backup segments, oldest first (do not modify)."""
        return self._segments.get(storage, [])

    def durations(self, storage: str) -> tuple[float, float]:
        """(all backup seconds, untagged seconds) on the storage."""
        stored = deletable = 0.0
        for _, start, end, _, tagged in self._segments.get(storage, ()):
            stored += end - start
            if not tagged:
                deletable += end - start
        return stored, deletable

    # -- changes (on the database thread, after the commit) ----------------------------------

    def closed(self, storage: str, id_: int, start: float, end: float, size: int) -> None:
        """A backup segment was closed (its row completed)."""
        if id_ in self._storage_of:
            self.deleted([id_])
        segment = retention.Segment(
            id_, start, end, size, retention.is_tagged(start, end, self._tags)
        )
        starts = self._starts.setdefault(storage, [])
        position = bisect_right(starts, (start, id_))
        starts.insert(position, (start, id_))
        self._segments.setdefault(storage, []).insert(position, segment)
        self._storage_of[id_] = storage

    def deleted(self, ids: Iterable[int]) -> None:
        """Rows were deleted (any kind: ids that are not backup segments are ignored)."""
        gone: dict[str, set[int]] = {}
        for id_ in ids:
            storage = self._storage_of.pop(id_, None)
            if storage is not None:
                gone.setdefault(storage, set()).add(id_)
        for storage, removed in gone.items():
            kept = [s for s in self._segments[storage] if s.id not in removed]
            self._segments[storage] = kept
            self._starts[storage] = [(s.start, s.id) for s in kept]

    def tag_added(self, time: float) -> None:
        insort(self._tags, time)
        self._retag(time)

    def tag_removed(self, time: float) -> None:
        position = bisect_left(self._tags, time)
        if position < len(self._tags) and self._tags[position] == time:
            del self._tags[position]
        self._retag(time)

    def _retag(self, time: float) -> None:
        """Recompute the protection of the segments that hold ``time``."""
        for storage, segments in self._segments.items():
            starts = self._starts[storage]
            position = bisect_right(starts, (time, float("inf")))
            # One backup run at a time: a storage's segments follow each other.
            while position > 0:
                position -= 1
                segment = segments[position]
                if segment.end < time:
                    break
                tagged = retention.is_tagged(segment.start, segment.end, self._tags)
                if tagged != segment.tagged:
                    segments[position] = segment._replace(tagged=tagged)
