"""The streams of one multi-sensor camera: a hub per stream, stills on demand.

Each stream (``CAM_A``, ``CAM_B``, ``DEPTH_B_C``…) has a ``StreamHub`` like the c2
live stream: captured only while someone watches its MJPEG video, encoded once, fanned
out. The hub's configuration carries a ``SensorSnapshot`` (the stream's controls, lens
and sizes, taken from the device state), so a write that is acknowledged shows from the
next frame on, and the hub's generation counter tells a still-waiting viewer which
frames predate it. Stills are made directly at the still size, in a worker thread.

Sizes, per the Robopipe server's semantics: a colour sensor's video is a crop of the
sensor (``video_size`` at ``sensor_crop``; the whole sensor when ``video_size`` is
larger, then scaled up), its still the whole sensor scaled to ``still_size`` (up, too:
the vendor's server keeps sizes larger than a new resolution); a mono sensor streams at
its resolution; a depth stream is computed at its ``resolution`` and scaled to the video
or still size.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

import cv2
import numpy as np

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name
from camnet.devices.device import Device
from camnet.devices.profiles.stereo import (
    COLOUR_RESOLUTIONS,
    MONO_RESOLUTIONS,
    CameraModel,
    SensorKind,
    StreamSpec,
    active_variable,
    focus_variable,
    variable_name,
)
from camnet.devices.stereo.source import Lens, StereoSource
from camnet.media import depth, image_formats
from camnet.media.config import StreamConfig
from camnet.media.hub import StreamHub
from camnet.media.sensor_isp import IspMemory, NoiseBank, SensorControls, process
from camnet.state.schema import JsonValue

MAX_RENDER_WIDTH: Final = 1920
"""A colour sensor larger than this is rendered scaled down (the simulated optics
have no more detail to give)."""
VIDEO_QUALITY: Final = 80

Size = tuple[int, int]


@dataclass(frozen=True, slots=True)
class SensorSnapshot:
    """Everything a capture of one stream needs, immutable."""

    stream: str
    kind: SensorKind
    sensors: tuple[str, ...]
    controls: tuple[SensorControls, ...]
    resolution: Size
    video: Size
    still: Size
    crop: tuple[float, float] = (0.0, 0.0)
    fps: float = 30.0
    lens: Lens | None = None


@dataclass(frozen=True, slots=True)
class SensorStreamConfig(StreamConfig):
    sensor: SensorSnapshot | None = None


def _size(value: JsonValue) -> Size:
    assert isinstance(value, list)
    return int(value[0]), int(value[1])


def _controls(state: Mapping[str, JsonValue], sensor: str) -> SensorControls:
    prefix = f"{sensor}_"
    return SensorControls.of(
        {name[len(prefix) :]: v for name, v in state.items() if name.startswith(prefix)}
    )


def snapshot(state: Mapping[str, JsonValue], spec: StreamSpec) -> SensorSnapshot:
    def field(name: str) -> JsonValue:
        return state[variable_name(spec.name, name)]

    fps = float(field("fps"))
    if spec.kind is SensorKind.COLOUR:
        lens = None
        if spec.autofocus:
            lens = Lens(
                float(state[focus_variable(spec.name, "lens_position")]),
                edof=state[focus_variable(spec.name, "auto_focus_mode")] == "EDOF",
            )
        crop = field("sensor_crop")
        assert isinstance(crop, list)
        return SensorSnapshot(
            spec.name,
            spec.kind,
            (spec.name,),
            (_controls(state, spec.name),),
            COLOUR_RESOLUTIONS[str(field("resolution"))],
            _size(field("video_size")),
            _size(field("still_size")),
            (float(crop[0]), float(crop[1])),
            fps,
            lens,
        )
    if spec.kind is SensorKind.MONO:
        size = MONO_RESOLUTIONS[str(field("resolution"))]
        return SensorSnapshot(
            spec.name,
            spec.kind,
            (spec.name,),
            (_controls(state, spec.name),),
            size,
            size,
            size,
            fps=fps,
        )
    assert spec.pair is not None
    return SensorSnapshot(
        spec.name,
        spec.kind,
        spec.pair,
        tuple(_controls(state, sensor) for sensor in spec.pair),
        _size(field("resolution")),
        _size(field("video_size")),
        _size(field("still_size")),
        fps=fps,
    )


class Frames:
    """Makes the pictures of a camera's streams (any thread)."""

    def __init__(self, source: StereoSource) -> None:
        self.source = source
        self.noise = NoiseBank()
        self.memories: dict[str, IspMemory] = {}

    def _memory(self, sensor: str) -> IspMemory:
        return self.memories.setdefault(sensor, IspMemory())

    def _colour_raw(self, snap: SensorSnapshot) -> tuple[np.ndarray, float]:
        width, height = snap.resolution
        scale = min(1.0, MAX_RENDER_WIDTH / width)
        raw = self.source.capture(
            snap.sensors[0], round(width * scale), round(height * scale), lens=snap.lens
        )
        return raw, scale

    def picture(self, snap: SensorSnapshot, still: bool, matcher: depth.DepthMatcher) -> np.ndarray:
        """RGB uint8 of the video (``still`` False) or still size."""
        if snap.kind is SensorKind.DEPTH:
            shown = depth.shade(self.depth(snap, matcher))
            return _resize(shown, snap.still if still else snap.video, cv2.INTER_NEAREST)
        if snap.kind is SensorKind.MONO:
            width, height = snap.resolution
            raw = self.source.capture(snap.sensors[0], width, height)
            grey = process(raw, snap.controls[0], self._memory(snap.stream), self.noise)
            return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)
        raw, scale = self._colour_raw(snap)
        if still:
            raw = _resize(raw, snap.still, cv2.INTER_AREA)
        else:
            width, height = snap.resolution
            # A video size larger than the sensor takes the whole sensor (then scaled).
            vw, vh = min(snap.video[0], width), min(snap.video[1], height)
            x = round((width - vw) * snap.crop[0] * scale)
            y = round((height - vh) * snap.crop[1] * scale)
            raw = _resize(
                raw[y : y + round(vh * scale), x : x + round(vw * scale)],
                snap.video,
                cv2.INTER_AREA,
            )
        return process(raw, snap.controls[0], self._memory(snap.stream), self.noise)

    def depth(self, snap: SensorSnapshot, matcher: depth.DepthMatcher) -> depth.DepthResult:
        width, height = snap.resolution
        margin = depth.margin_for(width)
        pair = [
            process(
                self.source.capture(sensor, width, height, margin=margin),
                controls,
                self._memory(sensor),
                self.noise,
            )
            for sensor, controls in zip(snap.sensors, snap.controls, strict=True)
        ]
        return matcher.match(pair[0], pair[1], margin)

    def depth_png(self, snap: SensorSnapshot) -> bytes:
        result = self.depth(snap, depth.DepthMatcher())
        width = snap.resolution[0]
        geometry = self.source.geometry
        mm = depth.millimetres(result, geometry.focal_at(width), geometry.baseline_mm)
        return image_formats.encode_png16(_resize(mm, snap.still, cv2.INTER_NEAREST))


def _resize(image: np.ndarray, size: Size, interpolation: int) -> np.ndarray:
    if (image.shape[1], image.shape[0]) == size:
        return image
    return cv2.resize(image, size, interpolation=interpolation)


class SensorProducer:
    """A hub's producer: one stream's frames at its video size."""

    def __init__(self, frames: Frames) -> None:
        self._frames = frames
        self._matcher = depth.DepthMatcher()

    def start(self) -> None:
        return None

    def stop(self) -> None:
        return None

    def compose(self, config: StreamConfig, moment: float, epoch: float) -> np.ndarray | None:
        assert isinstance(config, SensorStreamConfig)
        assert config.sensor is not None
        return self._frames.picture(config.sensor, False, self._matcher)


def _hub_config(snap: SensorSnapshot) -> SensorStreamConfig:
    width, height = snap.video
    return SensorStreamConfig(
        width=width,
        height=height,
        fps=max(1, round(snap.fps)),
        quality=VIDEO_QUALITY,
        sensor=snap,
    )


class CameraStreams:
    """The hubs and stills of one camera device, kept in step with its state."""

    def __init__(self, device: Device, model: CameraModel, source: StereoSource, bus: Bus) -> None:
        self.device = device
        self.model = model
        self.frames = Frames(source)
        self._bus = bus
        self.hubs: dict[str, StreamHub] = {
            spec.name: StreamHub(
                f"{device.name}-{spec.name}",
                SensorProducer(self.frames),
                _hub_config(snapshot(device.state, spec)),
            )
            for spec in model.streams
        }
        self._subscription: Subscription | None = None
        self._active: dict[str, bool] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def mxid(self) -> str:
        return str(self.device.state["mxid"])

    def spec(self, stream: str) -> StreamSpec | None:
        return self.model.stream(stream)

    def is_active(self, stream: str) -> bool:
        return bool(self.device.state[active_variable(stream)])

    async def start(self) -> None:
        """Start after the device (the snapshots come from its loaded state)."""
        for hub in self.hubs.values():
            await hub.start()
        self._reconfigure()
        self._subscription = self._bus.subscribe(
            TopicFilter(
                type=MessageType.UPDATE,
                source=self.device.name,
                target=BROADCAST,
                name=state_name("*"),
            ),
            self._on_update,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for hub in self.hubs.values():
            await hub.stop()

    def _on_update(self, _envelope: Envelope) -> None:
        self._reconfigure()

    def _reconfigure(self) -> None:
        state = self.device.state
        for spec in self.model.streams:
            hub = self.hubs[spec.name]
            hub.configure(_hub_config(snapshot(state, spec)))
            active = self.is_active(spec.name)
            if self._active.get(spec.name, True) and not active:
                # A deactivated stream ends its viewers' videos.
                task = asyncio.create_task(self._restart(hub))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
            self._active[spec.name] = active

    async def _restart(self, hub: StreamHub) -> None:
        await hub.stop()
        await hub.start()

    async def still(self, stream: str, fmt: image_formats.StillFormat) -> tuple[bytes, str]:
        """One still of an active stream: ``(bytes, media type)``."""
        spec = self.spec(stream)
        assert spec is not None
        snap = snapshot(self.device.state, spec)
        if spec.kind is SensorKind.DEPTH and fmt == "png":
            return await asyncio.to_thread(self.frames.depth_png, snap), "image/png"

        def make() -> bytes:
            picture = self.frames.picture(snap, True, depth.DepthMatcher())
            return image_formats.encode(picture, fmt)

        return await asyncio.to_thread(make), image_formats.MEDIA_TYPES[fmt]
