"""One H.264 encoder per stream, shared by every RTSP client of that stream.

The encoder consumes its ``StreamHub`` (capture once) and encodes each picture once with
libx264 through PyAV (baseline profile, zerolatency: no B-frames, no look-ahead), in a
worker thread so the loop stays free. Each encoded picture (an access unit) is handed to
every subscribed client's bounded queue. It runs only while at least one client plays:
the first subscriber starts it, the last one leaving stops it (and the hub with it).

A client joins at a keyframe: a new subscriber asks for one (forced IDR) and receives
nothing until it arrives. A client too slow to take its queue loses the queue and waits
for the next keyframe, so it never slows the others nor grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Final

import av
import cv2
import numpy as np
import simplejpeg

from camnet.media.hub import EncodedFrame, HubStopped, StreamHub
from camnet.protocols.rtsp import h264

log = logging.getLogger(__name__)

QUEUE_FRAMES: Final = 60
"""Access units a client may have queued (2 s at 30 fps) before it is reset to a keyframe."""
KEYFRAME_SECONDS: Final = 2
PRESET: Final = "veryfast"


def _codec(width: int, height: int, fps: int) -> Any:
    codec = av.CodecContext.create("libx264", "w")
    codec.width = width
    codec.height = height
    codec.pix_fmt = "yuv420p"
    codec.time_base = Fraction(1, h264.CLOCK_RATE)
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
def parameter_sets(width: int, height: int, fps: int) -> h264.ParameterSets | None:
    """The SPS/PPS the encoder uses for this size (for DESCRIBE, before anything plays).

    The parameter sets depend only on the encoder settings and the picture size, so one
    grey picture through a throw-away encoder gives exactly those of the live stream."""
    codec = _codec(width, height, fps)
    picture = np.full((height * 3 // 2, width), 128, np.uint8)
    frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
    frame.pts = 0
    units: list[bytes] = []
    for packet in [*codec.encode(frame), *codec.encode(None)]:
        units += h264.split_annexb(bytes(packet))
    return h264.find_parameter_sets(units)


@dataclass(frozen=True, slots=True)
class AccessUnit:
    units: tuple[bytes, ...]
    timestamp: int
    """RTP timestamp (90 kHz) from the picture's capture time."""
    keyframe: bool
    captured: float
    """``time.monotonic()`` when the picture was captured (for latency figures)."""


@dataclass(eq=False)
class Subscriber:
    queue: asyncio.Queue[AccessUnit] = field(
        default_factory=lambda: asyncio.Queue(maxsize=QUEUE_FRAMES)
    )
    waiting_for_keyframe: bool = True
    resets: int = 0


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
            self._task = asyncio.create_task(self._run(), name=f"camnet-rtsp-{self.name}")
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.discard(subscriber)
        if not self._subscribers and self._task is not None:
            self._task.cancel()
            self._task = None

    async def stop(self) -> None:
        self._subscribers.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def status(self) -> dict[str, Any]:
        return {"running": self.running, "clients": len(self._subscribers), **vars(self.counters)}

    async def _run(self) -> None:
        state: dict[str, Any] = {"codec": None, "size": None, "last_pts": -1, "origin": None}
        try:
            async with self.hub.consuming():
                sequence = -1
                while self._subscribers:
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
            log.exception("RTSP encoder %s stopped", self.name)

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
        pts = int((frame.captured - state["origin"]) * h264.CLOCK_RATE)
        pts = max(pts, state["last_pts"] + 1)
        state["last_pts"] = pts
        yuv = np.asarray(cv2.cvtColor(image, cv2.COLOR_RGB2YUV_I420), dtype=np.uint8)
        picture = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        picture.pts = pts
        if force:
            picture.pict_type = av.video.frame.PictureType.I
        units = []
        for packet in state["codec"].encode(picture):
            nals = tuple(h264.split_annexb(bytes(packet)))
            keyframe = bool(packet.is_keyframe)
            units.append(AccessUnit(nals, int(packet.pts or pts), keyframe, frame.captured))
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
