"""One H.264 encoder per stream, shared by every consumer of that stream's video: RTSP
clients and the streams dialect's WebSocket fMP4 live view (``EncoderPool``: one encoder
per hub, whoever asks).

The encoder consumes its ``StreamHub`` (capture once) and encodes each picture once with
libx264 through PyAV (baseline profile, zerolatency: no B-frames, no look-ahead), in a
worker thread so the loop stays free. Each encoded picture (an access unit) is handed to
every subscriber's bounded queue; what a protocol makes of it (RTP packets, an fMP4
fragment) is built from the access unit, the fragment once for all viewers
(``AccessUnit.fragment``). It runs only while at least one subscriber watches: the first
starts it, the last one leaving stops it (and the hub with it). When the hub stops (the
stream is deactivated, the node shuts down) every subscriber receives ``None``: the end.

A client joins at a keyframe: a new subscriber asks for one (forced IDR) and receives
nothing until it arrives. A client too slow to take its queue loses the queue and waits
for the next keyframe, so it never slows the others nor grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

import av
import cv2
import numpy as np
import simplejpeg

from camnet.media import fmp4, nal
from camnet.media.hub import EncodedFrame, HubStopped, StreamHub

log = logging.getLogger(__name__)

QUEUE_FRAMES: Final = 60
"""Access units a client may have queued (2 s at 30 fps) before it is reset to a keyframe."""
KEYFRAME_SECONDS: Final = 2
PRESET: Final = "veryfast"
CLOCK_RATE: Final = 90_000
"""The encoder's time base: the 90 kHz clock of RTP (RFC 6184) and of the fMP4 track."""


def _codec(width: int, height: int, fps: int) -> Any:
    codec = av.CodecContext.create("libx264", "w")
    codec.width = width
    codec.height = height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, CLOCK_RATE)
    codec.framerate = Fraction(fps, 1)
    keyint = max(1, fps * KEYFRAME_SECONDS)
    codec.options = {
        "preset": PRESET,
        "tune": "zerolatency",
        "profile": "baseline",
        "forced-idr": "1",
        # SPS/PPS before every IDR: a client joining mid-stream can start decoding there.
        "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0:repeat-headers=1",
    }
    return codec


@functools.lru_cache(maxsize=16)
def parameter_sets(width: int, height: int, fps: int) -> nal.ParameterSets | None:
    """The SPS/PPS the encoder uses for this size (for DESCRIBE, before anything plays).

    The parameter sets depend only on the encoder settings and the picture size, so one
    grey picture through a throw-away encoder gives exactly those of the live stream."""
    codec = _codec(width, height, fps)
    picture = np.full((height * 3 // 2, width), 128, np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
    frame.pts = 0
    units: list[bytes] = []
    for packet in [*codec.encode(frame), *codec.encode(None)]:
        units += nal.split_annexb(bytes(packet))
    return nal.find_parameter_sets(units)


@dataclass(frozen=True)
class AccessUnit:
    units: tuple[bytes, ...]
    timestamp: int
    """RTP timestamp (90 kHz) from the picture's capture time."""
    keyframe: bool
    captured: float
    """``time.monotonic()`` when the picture was captured (for latency figures)."""
    index: int = 1
    """1, 2, … per encoder run (the fMP4 fragment's sequence number)."""
    width: int = 0
    height: int = 0
    duration: int = 0
    """How long the picture shows in the fMP4 track (90 kHz ticks): the stream's
    measured picture interval (a moving average), so playback keeps pace with capture."""
    decode_time: int = 0
    """Where the picture starts on the fMP4 track: the previous picture's decode time
    plus its duration. Gap-free by construction (a browser's MSE drops pictures up to the
    next keyframe after a gap longer than two durations), unlike ``timestamp``."""

    @functools.cached_property
    def parameter_sets(self) -> nal.ParameterSets | None:
        """The SPS/PPS this unit carries (every keyframe does: ``repeat-headers``)."""
        return nal.find_parameter_sets(self.units)

    @functools.cached_property
    def init_segment(self) -> bytes | None:
        """The fMP4 init segment for the pictures from this keyframe on (None when the
        unit carries no parameter sets); built once, whoever asks."""
        sets = self.parameter_sets
        return None if sets is None else fmp4.init_segment(sets, self.width, self.height)

    @functools.cached_property
    def fragment(self) -> bytes:
        """This picture as one fMP4 fragment, built once and sent as it is to every
        viewer (the event loop is the only thread that asks)."""
        sample = fmp4.sample_of(self.units)
        return fmp4.fragment(self.index, self.decode_time, self.duration, sample, self.keyframe)


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[AccessUnit | None] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_FRAMES)
    )
    """Access units from a keyframe on; ``None`` when the stream has ended."""
    waiting_for_keyframe: bool = True
    resets: int = 0

    def end(self) -> None:
        """The stream ended: whatever is queued is dropped, ``None`` tells the reader."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.queue.put_nowait(None)


@dataclass
class EncoderCounters:
    encoded: int = 0
    """Pictures encoded (once each, whatever the number of clients)."""
    keyframes: int = 0
    starts: int = 0
    """Times the encoder started (one per run from first to last client)."""
    dropped: int = 0
    """Access units not delivered to a client that fell behind."""


class H264Encoder:
    """The one encoder of ``hub``; get it from the node's ``EncoderPool``."""

    def __init__(self, name: str, hub: StreamHub) -> None:
        self.name = name
        self.hub = hub
        self._subscribers: set[Subscriber] = set()
        self._task: asyncio.Task[None] | None = None
        self._keyframe_wanted = False
        self.counters = EncoderCounters()

    @property
    def clients(self) -> int:
        return len(self._subscribers)

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def subscribe(self) -> Subscriber:
        subscriber = Subscriber()
        self._subscribers.add(subscriber)
        self._keyframe_wanted = True
        if not self.running:
            self.counters.starts += 1
            self._task = asyncio.create_task(self._run(), name=f"camnet-h264-{self.name}")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        for subscriber in self._subscribers:
            subscriber.end()
        self._subscribers.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def status(self) -> dict[str, Any]:
        return {"running": self.running, "clients": len(self._subscribers), **vars(self.counters)}

    async def _run(self) -> None:
        state: dict[str, Any] = {
            "codec": None,
            "size": None,
            "last_pts": -1,
            "origin": None,
            "index": 0,
            "decode_time": 0,
            "interval": None,
            "previous": None,
        }
        try:
            stops = self.hub.stops
            async with self.hub.consuming():
                sequence = -1
                while self._subscribers:
                    if self.hub.stops != stops:
                        # Stopped (and restarted) while this encoded: the stream ended.
                        raise HubStopped(self.hub.name)
                    frame = await self.hub.newer_than(sequence)
                    sequence = frame.sequence
                    force = self._keyframe_wanted
                    self._keyframe_wanted = False
                    units = await asyncio.to_thread(self._encode, state, frame, force)
                    for unit in units:
                        self._fan_out(unit)
        except HubStopped:
            pass
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("H.264 encoder %s stopped", self.name)
        # The stream ended under its subscribers: tell them (an unsubscribe cancels the
        # task instead, and cancellation does not reach this line).
        if self._task is asyncio.current_task():
            self._task = None
        for subscriber in self._subscribers:
            subscriber.end()
        self._subscribers.clear()

    def _encode(self, state: dict[str, Any], frame: EncodedFrame, force: bool) -> list[AccessUnit]:
        """In a worker thread: one picture in, zero or more access units out."""
        image = frame.image
        if image is None:  # the no-signal card exists only as JPEG
            image = simplejpeg.decode_jpeg(frame.jpeg, colorspace="RGB")
        height, width = image.shape[:2]
        fps = self.hub.config.fps
        if state["size"] != (width, height, fps):
            state["codec"] = _codec(width, height, fps)
            state["size"] = (width, height, fps)
            force = True
        if state["origin"] is None:
            state["origin"] = frame.captured
        pts = int((frame.captured - state["origin"]) * CLOCK_RATE)
        pts = max(pts, state["last_pts"] + 1)
        state["last_pts"] = pts
        yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        picture = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        picture.pts = pts
        if force:
            picture.pict_type = av.video.frame.PictureType.I
        units = []
        for packet in state["codec"].encode(picture):
            nals = tuple(nal.split_annexb(bytes(packet)))
            keyframe = bool(packet.is_keyframe)
            state["index"] += 1
            duration = _track_duration(state, int(packet.pts or pts), fps)
            unit = AccessUnit(
                nals,
                int(packet.pts or pts),
                keyframe,
                frame.captured,
                index=state["index"],
                width=width,
                height=height,
                duration=duration,
                decode_time=state["decode_time"],
            )
            state["decode_time"] += duration
            units.append(unit)
            self.counters.encoded += 1
            self.counters.keyframes += int(keyframe)
        return units

    def _fan_out(self, unit: AccessUnit) -> None:
        for subscriber in self._subscribers:
            if subscriber.waiting_for_keyframe:
                if not unit.keyframe:
                    continue
                subscriber.waiting_for_keyframe = False
            try:
                subscriber.queue.put_nowait(unit)
            except asyncio.QueueFull:
                self.counters.dropped += subscriber.queue.qsize() + 1
                while not subscriber.queue.empty():
                    subscriber.queue.get_nowait()
                subscriber.waiting_for_keyframe = True
                subscriber.resets += 1
                self._keyframe_wanted = True


def _track_duration(state: dict[str, Any], pts: int, fps: int) -> int:
    """The fMP4 duration of the picture at ``pts``: a moving average of the real picture
    intervals (nominal 1/fps at first), bounded to [1/240 s, 1 s]."""
    nominal = CLOCK_RATE // max(1, fps)
    previous: int | None = state["previous"]
    interval: float | None = state["interval"]
    if previous is None or interval is None:
        interval = float(nominal)
    else:
        measured = min(max(pts - previous, CLOCK_RATE // 240), CLOCK_RATE)
        interval = 0.8 * interval + 0.2 * measured
    state["previous"], state["interval"] = pts, interval
    return max(1, round(interval))


class EncoderPool:
    """One ``H264Encoder`` per hub for the whole node: RTSP paths and WebSocket viewers
    of the same stream reach the same encoder, so a stream is never encoded twice."""

    def __init__(self) -> None:
        self._encoders: dict[int, tuple[StreamHub, H264Encoder]] = {}

    def encoder(self, hub: StreamHub) -> H264Encoder:
        found = self._encoders.get(id(hub))
        if found is None:
            found = (hub, H264Encoder(hub.name, hub))
            self._encoders[id(hub)] = found
        return found[1]

    def existing(self, hub: StreamHub) -> H264Encoder | None:
        found = self._encoders.get(id(hub))
        return None if found is None else found[1]

    def __iter__(self) -> Iterator[H264Encoder]:
        return iter([encoder for _hub, encoder in self._encoders.values()])

    async def stop(self) -> None:
        for _hub, encoder in list(self._encoders.values()):
            await encoder.stop()
