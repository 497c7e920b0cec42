"""One recording run: frames from a stream hub into a series of indexed segments.

A run consumes its hub (so capture runs while it records), takes the newest JPEG each
time (the hub's own encode: no second encoding) and writes it on the run's one writer
thread. The run splits into a new segment every ``segment_seconds`` and when the
picture size changes; each segment's index row is written when its file opens and
completed, with its ``recording`` event, when it closes. A full or vanished storage
ends the run with a reason instead of an exception: the caller turns it into state,
a notification and a ``storage`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TypeVar

from camnet.clock import Clock
from camnet.events import Event, EventJournal, EventKind, StoredEvent, append_event
from camnet.media.hub import HubStopped, StreamHub
from camnet.recording import capacity, index
from camnet.recording.preroll import PrerollFrame
from camnet.recording.segments import SegmentWriter
from camnet.recording.storages import Storage
from camnet.store.database import Database

log = logging.getLogger(__name__)

T = TypeVar("T")

HEADROOM: Final = 256 * 1024
"""Bytes kept free on a storage: a run stops as full before the last of them is used."""


class StorageFailure(Exception):
    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass
class RunConfig:
    kind: index.Kind
    storage: Storage
    segment_seconds: float
    name: Callable[[float], str]
    """The file name of a segment opened at this epoch."""
    source: str
    """The service the events are about."""


@dataclass
class _Open:
    id: int
    writer: SegmentWriter
    settings: capacity.Settings
    start_epoch: float
    start_moment: float


class RecordingRun:
    def __init__(
        self,
        config: RunConfig,
        hub: StreamHub,
        database: Database,
        journal: EventJournal,
        clock: Clock,
        on_split: Callable[[], Awaitable[float | None]] | None = None,
        on_closed: Callable[[index.Recording], None] | None = None,
        on_indexed: Callable[[index.Recording], None] | None = None,
        preroll: Callable[[], Sequence[PrerollFrame]] | None = None,
    ) -> None:
        self.config = config
        self.paused = False
        self._hub = hub
        self._database = database
        self._journal = journal
        self._clock = clock
        self._on_split = on_split
        self._on_closed = on_closed
        self._on_indexed = on_indexed
        """Called on the database thread once a closed segment's row is committed."""
        self._preroll = preroll
        """Takes the pre-roll's frames once the run consumes the hub (Visual Backup)."""
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"camnet-rec-{config.kind}")
        self._current: _Open | None = None
        self._written = 0
        self._budget = max(0, config.storage.free - HEADROOM)
        self._anchor: tuple[float, float] | None = None
        """(epoch, monotonic) of the run's first frame: segment times follow the injected
        clock at the start and the frames' own capture times after it."""

    def _epoch(self, moment: float) -> float:
        if self._anchor is None:
            self._anchor = (self._clock.now(), moment)
        epoch, first = self._anchor
        return epoch + (moment - first)

    async def _off_loop(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    async def run(self) -> None:
        """Record until cancelled; raises StorageFailure when the storage gives out."""
        try:
            async with self._hub.consuming():
                sequence = await self._write_preroll()
                while True:
                    frame = await self._hub.newer_than(sequence)
                    sequence = frame.sequence
                    if self.paused:
                        continue
                    config = self._hub.config
                    settings = capacity.Settings(
                        config.width, config.height, config.fps, config.quality
                    )
                    await self._write(frame.jpeg, frame.captured, settings)
        except HubStopped:
            pass
        finally:
            with contextlib.suppress(StorageFailure):
                await asyncio.shield(self._close_current())
            self._executor.shutdown(wait=False)

    async def _write_preroll(self) -> int:
        """Write the pre-roll's frames first; the sequence to go on after (-1: none).

        Their capture times are before the run's start, so the segment times are
        anchored to the clock now rather than to the first frame written."""
        frames = self._preroll() if self._preroll is not None else []
        if not frames:
            return -1
        self._anchor = (self._clock.now(), time.monotonic())
        for frame in frames:
            await self._write(frame.jpeg, frame.captured, frame.settings)
        return frames[-1].sequence

    async def _write(self, jpeg: bytes, captured: float, settings: capacity.Settings) -> None:
        current = self._current
        if current is not None and (
            current.settings != settings
            or captured - current.start_moment >= self.config.segment_seconds
        ):
            await self._close_current()
            if self._on_split is not None:
                free = await self._on_split()
                if free is not None:
                    self._budget = max(0, int(free) - HEADROOM)
                    self._written = 0
            current = None
        if current is None:
            current = await self._open(settings, captured)
        if self._written + len(jpeg) > self._budget:
            raise StorageFailure("full", f"storage {self.config.storage.uuid} is full")
        writer = current.writer
        try:
            await self._off_loop(lambda: writer.write(jpeg, captured))
        except OSError as exc:
            raise _failure(exc, self.config.storage) from None
        self._written += len(jpeg)

    async def _open(self, settings: capacity.Settings, moment: float) -> _Open:
        storage = self.config.storage
        epoch = self._epoch(moment)
        name = self.config.name(epoch)
        path = storage.path / name
        counter = 1
        while await self._off_loop(path.exists):
            stem, dot, extension = self.config.name(epoch).rpartition(".")
            name = f"{stem}-{counter}{dot}{extension}"
            path = storage.path / name
            counter += 1
        try:
            writer = await self._off_loop(
                lambda: SegmentWriter(path, settings.width, settings.height, settings.fps)
            )
        except OSError as exc:
            raise _failure(exc, storage) from None

        def insert() -> int:
            with self._database.engine.begin() as connection:
                return index.open_segment(
                    connection, self.config.kind, storage.uuid, name, epoch, settings
                )

        recording_id = await self._database.run(insert)
        self._current = _Open(recording_id, writer, settings, epoch, moment)
        return self._current

    async def _close_current(self) -> None:
        current, self._current = self._current, None
        if current is None:
            return
        writer = current.writer
        failure: StorageFailure | None = None
        try:
            await self._off_loop(writer.close)
        except OSError as exc:
            writer.abandon()
            failure = _failure(exc, self.config.storage)
        size = await self._off_loop(lambda: writer.size)
        frames = writer.frames
        interval = 1.0 / current.settings.fps
        duration = writer.last_ms / 1000 + interval if frames else 0.0
        end = current.start_epoch + duration

        def close() -> tuple[index.Recording | None, object]:
            with self._database.engine.begin() as connection:
                if frames == 0:
                    index.delete_recordings(connection, [current.id])
                    return None, None
                recording = index.close_segment(connection, current.id, end, size, frames)
                assert recording is not None
                if duration >= 1.0:
                    index.calibrate(connection, current.settings, size, duration)
                stored = append_event(
                    connection,
                    Event(
                        EventKind.RECORDING,
                        self.config.source,
                        self._clock.now(),
                        {"recording": recording.to_json()},
                    ),
                )
            if self._on_indexed is not None:
                self._on_indexed(recording)
            return recording, stored

        recording, stored = await self._database.run(close)
        if recording is None:
            with contextlib.suppress(OSError):
                await self._off_loop(lambda: writer.path.unlink(missing_ok=True))
        else:
            assert isinstance(stored, StoredEvent)
            await self._journal.announce(stored)
            if self._on_closed is not None:
                self._on_closed(recording)
        if failure is not None:
            raise failure


def _failure(exc: OSError, storage: Storage) -> StorageFailure:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFailure("full", f"storage {storage.uuid} is full")
    return StorageFailure("removed", f"storage {storage.uuid} cannot be written: {exc}")


def storage_path(storage: Storage, file: str) -> Path:
    """The path of an indexed file: always directly inside the storage."""
    return storage.path / Path(file).name
