"""One hub per stream: capture once, encode once, fan out to every consumer.

A hub captures only while something consumes it (a viewer, a recording, a still
request). Its one worker thread composes each frame, JPEG-encodes it once (libjpeg-turbo
through simplejpeg, which releases the GIL) and builds the MJPEG part bytes once; the
finished frame crosses to the event loop in one place (``call_soon_threadsafe``) and
replaces the hub's newest frame. Consumers never queue frames: each awaits "a frame
newer than the one I have" and gets the newest, so a slow or stalled viewer skips frames,
never delays the others and never holds more than the frame it is sending.

The worker starts with the first consumer and ends with the last; counters say how many
frames were captured and encoded, so tests can check that nothing runs for nobody and
that encodes equal captures whatever the number of viewers.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

import cv2
import simplejpeg

from camnet.devices.sources.base import Image
from camnet.media import mjpeg, overlay
from camnet.media.config import StreamConfig

log = logging.getLogger(__name__)

NO_SIGNAL_INTERVAL: Final = 1.0
"""Seconds between repeats of the no-signal card while the selected head is silent."""


class Producer(Protocol):
    """What a hub captures from (``Composer`` in production, fakes in unit tests)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def compose(self, config: StreamConfig, moment: float, epoch: float) -> Image | None: ...


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    sequence: int
    generation: int
    """The configuration generation the frame was made with."""
    jpeg: bytes
    part: bytes
    """The MJPEG part (delimiter, headers, JPEG), built once for every viewer."""
    captured: float
    """``time.monotonic()`` when capture began."""
    signal: bool
    """False for the no-signal card."""
    message: dict[str, Any] = field(default_factory=dict, compare=False)
    """The ASGI ``http.response.body`` message carrying ``part``, built once and sent
    as it is to every viewer (uvicorn does not change it)."""
    image: Image | None = field(default=None, compare=False, repr=False)
    """The composed picture the JPEG was made from (never written to after publishing);
    video encoders (RTSP) read it instead of decoding the JPEG."""

    def __post_init__(self) -> None:
        self.message.update({"type": "http.response.body", "body": self.part, "more_body": True})


class HubStopped(Exception):
    """The hub was stopped while a consumer waited for a frame."""


@dataclass
class HubCounters:
    captured: int = 0
    """Frames composed from a head's picture."""
    encoded: int = 0
    """JPEG encodes, of pictures and of no-signal cards."""
    no_signal: int = 0
    published: int = 0
    starts: int = 0
    """Times the worker thread started (one per run from first to last consumer)."""
    skipped: int = 0
    """Frames MJPEG viewers missed because they were slower than the stream (summed)."""


@dataclass(eq=False, slots=True)
class Viewer:
    """One live viewer of a hub, for as long as it watches: what it was sent and what it
    skipped. The metrics read these at scrape time, so a viewer's series exists exactly
    while the viewer does (bounded by the viewer caps)."""

    id: str
    """Short and unique within the hub (``1``, ``2``, …), never reused while it runs."""
    sent: int = 0
    dropped: int = 0
    """Frames it missed because it was slower than the stream."""


class StreamHub:
    def __init__(self, name: str, producer: Producer, config: StreamConfig) -> None:
        self.name = name
        self._producer = producer
        self._setup: tuple[int, StreamConfig] = (0, config)
        self._lock = threading.Lock()
        self._consumers = 0
        self._running = False
        self._thread: threading.Thread | None = None
        self._wake = threading.Event()
        self._closed = False
        self._closing = False
        self.stops = 0
        """Times ``stop`` ran: a consumer that was busy (not waiting) when the hub
        stopped and restarted sees the change here, since no ``HubStopped`` reached it."""
        """Shutting down: every consumer is told ``HubStopped`` (capture may still run)."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: list[asyncio.Future[EncodedFrame]] = []
        self._sequence = 0
        self.latest: EncodedFrame | None = None
        self.counters = HubCounters()
        self.viewers: dict[str, Viewer] = {}
        self._viewer_ids = itertools.count(1)

    # --- configuration (event loop) ---------------------------------------------------

    @property
    def config(self) -> StreamConfig:
        return self._setup[1]

    @property
    def generation(self) -> int:
        return self._setup[0]

    def configure(self, config: StreamConfig) -> None:
        """Use ``config`` from the next frame on; the worker sees it whole or not at all."""
        generation, current = self._setup
        if config != current:
            self._setup = (generation + 1, config)
            self._wake.set()

    # --- lifecycle (event loop) -------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closed = False

    async def stop(self) -> None:
        """Stop capturing, whoever consumes; waiting consumers get ``HubStopped``."""
        self._closed = True
        self.stops += 1
        self._wake.set()
        thread = self._thread
        if thread is not None:
            await asyncio.to_thread(thread.join, 10)
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(HubStopped(self.name))

    def close_viewers(self) -> None:
        """Graceful shutdown: every consumer ends now (``HubStopped``), so a live viewer
        gets the end of its response instead of a cut connection; the hub is not reused."""
        self._closing = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_exception(HubStopped(self.name))

    def status(self) -> dict[str, Any]:
        return {
            "consumers": self._consumers,
            "running": self._running,
            "generation": self.generation,
            "width": self.config.width,
            "height": self.config.height,
            "fps": self.config.fps,
            "quality": self.config.quality,
            **vars(self.counters),
        }

    # --- consumers (event loop) -------------------------------------------------------

    def acquire(self) -> None:
        """One more consumer; the first starts the worker."""
        if self._closed or self._loop is None:
            raise HubStopped(self.name)
        with self._lock:
            self._consumers += 1
            if self._running:
                return
            self._running = True
            self.latest = None
        self.counters.starts += 1
        self._wake.clear()
        self._thread = threading.Thread(target=self._work, name=f"camnet-hub-{self.name}")
        self._thread.daemon = True
        self._thread.start()

    def release(self) -> None:
        """One consumer fewer; the worker ends after its current frame when none is left."""
        with self._lock:
            self._consumers -= 1
            if self._consumers == 0:
                self._wake.set()

    @contextlib.asynccontextmanager
    async def consuming(self) -> AsyncIterator[StreamHub]:
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    @contextlib.asynccontextmanager
    async def viewing(self) -> AsyncIterator[Viewer]:
        """A consumer that is a viewer: listed in ``viewers`` while the block runs."""
        viewer = Viewer(str(next(self._viewer_ids)))
        async with self.consuming():
            self.viewers[viewer.id] = viewer
            try:
                yield viewer
            finally:
                del self.viewers[viewer.id]

    def sent(self, viewer: Viewer, frame: EncodedFrame, previous: int) -> None:
        """Count ``frame`` as sent to ``viewer``, whose previous frame was ``previous``
        (-1 for none): the frames in between are the ones it skipped."""
        if previous >= 0 and frame.sequence > previous + 1:
            skipped = frame.sequence - previous - 1
            viewer.dropped += skipped
            self.counters.skipped += skipped
        viewer.sent += 1

    async def newer_than(self, sequence: int, generation: int = 0) -> EncodedFrame:
        """The newest frame after ``sequence`` made with at least ``generation``
        (the caller must be consuming)."""
        if self._closing:
            raise HubStopped(self.name)
        frame = self.latest
        while frame is None or frame.sequence <= sequence or frame.generation < generation:
            if self._closed:
                raise HubStopped(self.name)
            assert self._loop is not None
            # One future per waiter: cancelling one viewer must not touch the others.
            waiter = self._loop.create_future()
            self._waiters.append(waiter)
            frame = await waiter
        return frame

    async def snapshot(self) -> EncodedFrame:
        """One current frame: the newest if capture runs, else the first of a new run."""
        async with self.consuming():
            return await self.newer_than(-1, self.generation)

    def _publish(self, frame: EncodedFrame) -> None:
        """On the loop: the one place frames cross from the worker."""
        self.latest = frame
        self.counters.published += 1
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(frame)

    # --- the worker thread ------------------------------------------------------------

    def _work(self) -> None:
        # One thread per hub is the whole parallelism budget: OpenCV's own worker threads
        # would only add scheduling cost to the per-frame drawing.
        cv2.setNumThreads(1)
        loop = self._loop
        assert loop is not None
        card: tuple[tuple[int, StreamConfig], bytes, bytes] | None = None
        due = time.monotonic()
        self._producer.start()
        try:
            while True:
                with self._lock:
                    if self._consumers <= 0 or self._closed:
                        self._running = False
                        return
                generation, config = self._setup
                moment, epoch = time.monotonic(), time.time()
                try:
                    image = self._producer.compose(config, moment, epoch)
                except Exception:
                    log.exception("hub %s: composing a frame failed", self.name)
                    image = None
                if image is not None:
                    self.counters.captured += 1
                    jpeg = simplejpeg.encode_jpeg(
                        image, quality=config.quality, colorspace="RGB", fastdct=True
                    )
                    self.counters.encoded += 1
                    part = mjpeg.part(jpeg, epoch)
                    interval = 1.0 / config.fps
                else:
                    if card is None or card[0] != (generation, config):
                        picture = overlay.no_signal(config.width, config.height, config.head)
                        jpeg = simplejpeg.encode_jpeg(picture, quality=config.quality)
                        self.counters.encoded += 1
                        card = ((generation, config), jpeg, mjpeg.part(jpeg))
                    _, jpeg, part = card
                    self.counters.no_signal += 1
                    interval = max(1.0 / config.fps, NO_SIGNAL_INTERVAL)
                self._sequence += 1
                frame = EncodedFrame(
                    self._sequence, generation, jpeg, part, moment, image is not None, image=image
                )
                try:
                    loop.call_soon_threadsafe(self._publish, frame)
                except RuntimeError:  # the loop is closed: the process is ending
                    return
                due = max(due + interval, time.monotonic() - interval)
                delay = due - time.monotonic()
                if delay > 0 and self._wake.wait(delay):
                    self._wake.clear()
                    due = time.monotonic()
        finally:
            self._producer.stop()
