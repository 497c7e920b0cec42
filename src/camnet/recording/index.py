"""The index of recorded files and the tags that protect them (SQL, run on the DB thread).

A segment's row is written when its file is opened (``open`` true) and completed when
it closes, so after a kill the start-up recovery finds every file that was being
written and completes its row from the file itself. A segment is *tagged* when a tag's
moment lies within ``[start, end]``; that is computed in the query, never stored, so
deleting a tag makes its segments deletable at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)

from camnet.recording import capacity
from camnet.store import tables

Kind = Literal["manual", "backup"]
r = tables.recordings
t = tables.tags

SORTABLE: Final = ("id", "start", "end", "size", "duration", "kind", "storage", "frames")
TAG_SORTABLE: Final = ("id", "time", "title", "created")


def iso(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def tagged_clause() -> ColumnElement[bool]:
    return exists().where(and_(t.c.time >= r.c.start, t.c.time <= r.c.end))


@dataclass(frozen=True, slots=True)
class Recording:
    id: int
    kind: str
    storage: str
    file: str
    start: float
    end: float
    size: int
    frames: int
    width: int
    height: int
    fps: int
    quality: int
    open: bool
    version: int
    tagged: bool

    @property
    def duration(self) -> float:
        return round(max(0.0, self.end - self.start), 3)

    def to_json(self) -> dict[str, Any]:
        """The gallery's representation."""
        return {
            "id": self.id,
            "kind": self.kind,
            "storage": self.storage,
            "file": self.file,
            "start": self.start,
            "end": self.end,
            "startTime": iso(self.start),
            "endTime": iso(self.end),
            "duration": self.duration,
            "size": self.size,
            "frames": self.frames,
            "width": self.width,
            "height": self.height,
            "fps": self.fps,
            "quality": self.quality,
            "tagged": self.tagged,
            "open": self.open,
            "version": self.version,
        }


@dataclass(frozen=True, slots=True)
class Tag:
    id: int
    time: float
    title: str
    note: str
    created: float
    version: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "creationTime": self.time,
            "time": iso(self.time),
            "title": self.title,
            "note": self.note,
            "created": self.created,
            "version": self.version,
        }


def _recording_columns() -> list[Any]:
    return [*r.c, tagged_clause().label("tagged")]


def _recording(row: Any) -> Recording:
    return Recording(
        id=row.id,
        kind=row.kind,
        storage=row.storage,
        file=row.file,
        start=row.start,
        end=row.end,
        size=row.size,
        frames=row.frames,
        width=row.width,
        height=row.height,
        fps=row.fps,
        quality=row.quality,
        open=bool(row.open),
        version=row.version,
        tagged=bool(row.tagged),
    )


# -- segments --------------------------------------------------------------------------------


def open_segment(
    connection: Connection,
    kind: Kind,
    storage: str,
    file: str,
    start: float,
    settings: capacity.Settings,
) -> int:
    result = connection.execute(
        insert(r).values(
            kind=kind,
            storage=storage,
            file=file,
            start=start,
            end=start,
            size=0,
            frames=0,
            width=settings.width,
            height=settings.height,
            fps=settings.fps,
            quality=settings.quality,
            open=True,
            version=1,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


def close_segment(
    connection: Connection, recording_id: int, end: float, size: int, frames: int
) -> Recording | None:
    connection.execute(
        update(r)
        .where(r.c.id == recording_id)
        .values(end=end, size=size, frames=frames, open=False, version=r.c.version + 1)
    )
    return get_recording(connection, recording_id)


def get_recording(connection: Connection, recording_id: int) -> Recording | None:
    row = connection.execute(select(*_recording_columns()).where(r.c.id == recording_id)).first()
    return None if row is None else _recording(row)


def open_segments(connection: Connection) -> list[Recording]:
    rows = connection.execute(select(*_recording_columns()).where(r.c.open.is_(True))).all()
    return [_recording(row) for row in rows]


def covering(connection: Connection, when: float) -> bool:
    """Whether a recording holds the moment ``when`` (one being written: from its start)."""
    held = or_(
        and_(r.c.start <= when, r.c.end >= when),
        and_(r.c.open.is_(True), r.c.start <= when),
    )
    return connection.execute(select(r.c.id).where(held).limit(1)).first() is not None


def recordings_on(connection: Connection, storage: str) -> list[Recording]:
    rows = connection.execute(select(*_recording_columns()).where(r.c.storage == storage)).all()
    return [_recording(row) for row in rows]


def delete_recordings(connection: Connection, ids: Sequence[int]) -> None:
    for chunk in range(0, len(ids), 500):
        connection.execute(delete(r).where(r.c.id.in_(ids[chunk : chunk + 500])))


def delete_untagged(connection: Connection, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    """Delete those of ``ids`` no tag protects; their (id, storage, file).

    Retention decides on the in-memory copy; the tag check is repeated here, in the
    deleting transaction, so a tag that arrived meanwhile still protects its segment.
    """
    deleted: list[tuple[int, str, str]] = []
    for chunk in range(0, len(ids), 500):
        part = ids[chunk : chunk + 500]
        rows = connection.execute(
            select(r.c.id, r.c.storage, r.c.file).where(r.c.id.in_(part), ~tagged_clause())
        ).all()
        found = [(row.id, row.storage, row.file) for row in rows]
        if found:
            connection.execute(delete(r).where(r.c.id.in_([id_ for id_, _, _ in found])))
        deleted.extend(found)
    return deleted


def files_of(connection: Connection, ids: Sequence[int]) -> list[tuple[int, str, str]]:
    rows = connection.execute(select(r.c.id, r.c.storage, r.c.file).where(r.c.id.in_(ids))).all()
    return [(row.id, row.storage, row.file) for row in rows]


@dataclass(frozen=True, slots=True)
class Query:
    page: int = 1
    per_page: int = 20
    sort: str = "-start"
    kind: str | None = None
    storage: str | None = None
    tagged: bool | None = None
    since: float | None = None
    until: float | None = None


def query_recordings(connection: Connection, query: Query) -> tuple[list[Recording], int]:
    """A page of recordings overlapping ``[since, until]`` and the total count."""
    conditions: list[ColumnElement[bool]] = []
    if query.kind is not None:
        conditions.append(r.c.kind == query.kind)
    if query.storage is not None:
        conditions.append(r.c.storage == query.storage)
    if query.since is not None:
        conditions.append(r.c.end >= query.since)
    if query.until is not None:
        conditions.append(r.c.start <= query.until)
    if query.tagged is not None:
        conditions.append(tagged_clause() if query.tagged else ~tagged_clause())
    total = connection.execute(select(func.count()).select_from(r).where(*conditions)).scalar_one()
    field = query.sort.lstrip("-")
    column: Any = (r.c.end - r.c.start) if field == "duration" else r.c[field]
    order = column.desc() if query.sort.startswith("-") else column.asc()
    rows = connection.execute(
        select(*_recording_columns())
        .where(*conditions)
        .order_by(order, r.c.id)
        .limit(query.per_page)
        .offset((query.page - 1) * query.per_page)
    ).all()
    return [_recording(row) for row in rows], int(total)


# -- tags ------------------------------------------------------------------------------------


def _tag(row: Any) -> Tag:
    return Tag(row.id, row.time, row.title, row.note, row.created, row.version)


def create_tag(connection: Connection, time: float, title: str, note: str, created: float) -> Tag:
    result = connection.execute(
        insert(t).values(time=time, title=title, note=note, created=created, version=1)
    )
    key = result.inserted_primary_key
    assert key is not None
    tag = get_tag(connection, int(key[0]))
    assert tag is not None
    return tag


def get_tag(connection: Connection, tag_id: int) -> Tag | None:
    row = connection.execute(select(t).where(t.c.id == tag_id)).first()
    return None if row is None else _tag(row)


def change_tag(
    connection: Connection, tag_id: int, version: int, time: float, title: str, note: str
) -> Tag | None:
    """Replace a tag's fields if it is still at ``version``; None when it moved on."""
    result = connection.execute(
        update(t)
        .where(t.c.id == tag_id, t.c.version == version)
        .values(time=time, title=title, note=note, version=version + 1)
    )
    if result.rowcount != 1:
        return None
    return get_tag(connection, tag_id)


def delete_tag(connection: Connection, tag_id: int) -> None:
    connection.execute(delete(t).where(t.c.id == tag_id))


def query_tags(
    connection: Connection,
    page: int,
    per_page: int,
    sort: str,
    since: float | None,
    until: float | None,
) -> tuple[list[Tag], int]:
    conditions: list[ColumnElement[bool]] = []
    if since is not None:
        conditions.append(t.c.time >= since)
    if until is not None:
        conditions.append(t.c.time <= until)
    total = connection.execute(select(func.count()).select_from(t).where(*conditions)).scalar_one()
    column = t.c[sort.lstrip("-")]
    order = column.desc() if sort.startswith("-") else column.asc()
    rows = connection.execute(
        select(t)
        .where(*conditions)
        .order_by(order, t.c.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [_tag(row) for row in rows], int(total)


# -- capacity calibration --------------------------------------------------------------------


def load_calibration(connection: Connection) -> dict[capacity.Settings, capacity.Observation]:
    rows = connection.execute(select(tables.recording_calibration)).all()
    return {
        capacity.Settings.from_key(row.settings): capacity.Observation(row.bytes, row.seconds)
        for row in rows
    }


def calibrate(
    connection: Connection, settings: capacity.Settings, size: int, seconds: float
) -> capacity.Observation:
    """Add a closed segment's bytes and duration to its settings' calibration."""
    c = tables.recording_calibration
    key = settings.key()
    row = connection.execute(select(c).where(c.c.settings == key)).first()
    before = (
        capacity.Observation(0.0, 0.0)
        if row is None
        else capacity.Observation(row.bytes, row.seconds)
    )
    after = before.add(size, seconds)
    if row is None:
        connection.execute(insert(c).values(settings=key, bytes=after.bytes, seconds=after.seconds))
    else:
        connection.execute(
            update(c).where(c.c.settings == key).values(bytes=after.bytes, seconds=after.seconds)
        )
    return after
