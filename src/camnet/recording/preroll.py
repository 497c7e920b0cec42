"""The Visual Backup's pre-roll: the last seconds of the backup stream, kept in memory
while backup is off but could be started by a tag, so that a tag made "now" lies inside
the first segment instead of ~170 ms before it (picamera2's circular output idea).

``PrerollRing`` is the pure part: a bounded deque of ``(sequence, jpeg, captured,
settings)``. It keeps only the hub's JPEG bytes (never the MJPEG part or the composed
picture an ``EncodedFrame`` also carries, which would multiply the memory), drops frames
older than ``seconds`` behind the newest one, never holds more than ``max_bytes``, and
starts over when the picture settings change (a segment has one size). ``hold()``
freezes the time window (not the byte cap) from the moment a tag asks for backup until
the backup run takes the frames, so a slow start (retention scanning the index) cannot
push the tag's moment out of it.

``Preroll`` feeds the ring from the backup hub on the event loop: it is one more
consumer of the hub (so capture runs while it is wanted, and only then), and it stops
when the backup run takes its frames after the run has become a consumer itself, so
capture continues without a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass
from typing import Final

from camnet.media.hub import HubStopped, StreamHub
from camnet.recording import capacity

log = logging.getLogger(__name__)

MAX_BYTES: Final = 48 * 1024 * 1024
"""The most memory a pre-roll holds, held or not: 2 s of 4K at quality 100 fit."""


@dataclass(frozen=True, slots=True)
class PrerollFrame:
    sequence: int
    jpeg: bytes
    captured: float
    """``time.monotonic()`` when capture of the frame began (the hub's clock)."""
    settings: capacity.Settings


class PrerollRing:
    """The bounded window of recent frames (no I/O, no clock: tested from plain inputs)."""

    def __init__(self, seconds: float, max_bytes: int = MAX_BYTES) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.frames: deque[PrerollFrame] = deque()
        self.bytes = 0
        self.held = False

    def add(self, frame: PrerollFrame) -> None:
        if self.frames and self.frames[-1].settings != frame.settings:
            self.clear()
        self.frames.append(frame)
        self.bytes += len(frame.jpeg)
        self._trim()

    def _trim(self) -> None:
        newest = self.frames[-1].captured if self.frames else 0.0
        while self.frames and (
            self.bytes > self.max_bytes
            or (not self.held and newest - self.frames[0].captured > self.seconds)
        ):
            self.bytes -= len(self.frames.popleft().jpeg)

    def hold(self) -> None:
        self.held = True

    def release(self) -> None:
        self.held = False
        self._trim()

    def take(self) -> list[PrerollFrame]:
        """All frames, oldest first; the ring is empty and released afterwards."""
        frames = list(self.frames)
        self.clear()
        self.held = False
        return frames

    def clear(self) -> None:
        self.frames.clear()
        self.bytes = 0

    @property
    def oldest(self) -> float | None:
        return self.frames[0].captured if self.frames else None


class Preroll:
    """Keeps the ring fed from ``hub`` while wanted (see the module docstring)."""

    def __init__(self, hub: StreamHub, seconds: float) -> None:
        self.hub = hub
        self.ring = PrerollRing(seconds)
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.ring.seconds > 0

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def want(self, wanted: bool) -> None:
        """Feed the ring (wanted) or stop and forget it; a held ring stays as it is until
        ``take`` or ``release``, since a backup run is about to take it."""
        if self.ring.held:
            return
        if wanted and self.enabled and not self.running:
            self._task = asyncio.create_task(self._feed(), name="camnet-preroll")
        elif not wanted and self._task is not None:
            self._cancel()
            self.ring.clear()

    def hold(self) -> str | None:
        """Keep what the ring has for a backup run about to start; None when a tag made
        now will be inside its first segment, else the reason why it will not."""
        if not self.enabled:
            return (
                "there is no pre-roll (backup_preroll_seconds is 0), so the first "
                "backup segment begins after the tag"
            )
        self.ring.hold()
        if self.ring.oldest is None:
            return (
                "the pre-roll holds no frame yet, so the first backup segment begins after the tag"
            )
        return None

    def release(self) -> None:
        """The backup run will not start: the window slides again."""
        self.ring.release()

    def take(self) -> list[PrerollFrame]:
        """The frames for the backup run (called once the run consumes the hub)."""
        frames = self.ring.take()
        self._cancel()
        return frames

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.ring.take()

    async def _feed(self) -> None:
        try:
            async with self.hub.consuming():
                sequence = -1
                while True:
                    frame = await self.hub.newer_than(sequence)
                    sequence = frame.sequence
                    config = self.hub.config
                    settings = capacity.Settings(
                        config.width, config.height, config.fps, config.quality
                    )
                    kept = PrerollFrame(frame.sequence, frame.jpeg, frame.captured, settings)
                    self.ring.add(kept)
        except HubStopped:
            pass
