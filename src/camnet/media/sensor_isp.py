"""The image pipeline of one sensor of a multi-sensor camera: every control acts.

Runs on a capture thread, from the sensor's raw picture (float grey levels at nominal
exposure, see ``devices.stereo.scene``) to 8-bit output:

1. exposure: manual ``exposure_time × sensitivity_iso`` against the nominal product, or
   automatic (target shifted by ``auto_exposure_compensation`` in 1/3 EV, time capped at
   ``auto_exposure_limit`` with ISO making up the rest); ``auto_exposure_lock`` holds
   what automatic exposure last reached;
2. white balance (colour): the scene is lit at ``SCENE_KELVIN``; AUTO corrects by grey
   world, the presets and OFF (``manual_whitebalance``) assume a colour temperature, and
   ``auto_whitebalance_lock`` holds the last automatic gains;
3. sensor noise grows with ISO; ``luma_denoise``/``chroma_denoise`` blur it away;
4. ``contrast``, ``brightness`` and ``saturation`` (−10..10) last.

Mono sensors take every control; the colour ones (white balance, saturation, chroma
denoise) cannot show on a grey picture.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

from camnet.state.schema import JsonValue

NOMINAL_EXPOSURE: Final = 10_000.0 * 400.0
"""µs × ISO that renders the scene at its nominal level."""
BASE_ISO: Final = 400.0
AE_MAX_ISO: Final = 1600.0
MAX_EXPOSURE_US: Final = 33_000
SCENE_KELVIN: Final = 4000.0
PRESET_KELVIN: Final[Mapping[str, float]] = {
    "DAYLIGHT": 5500.0,
    "CLOUDY_DAYLIGHT": 6500.0,
    "SHADE": 7500.0,
    "TWILIGHT": 9000.0,
    "FLUORESCENT": 4200.0,
    "WARM_FLUORESCENT": 3000.0,
    "INCANDESCENT": 2850.0,
}
BRIGHTNESS_STEP: Final = 10.0
NOISE_SCALE: Final = 32.0
NOISE_VARIANTS: Final = 2


@dataclass(frozen=True, slots=True)
class SensorControls:
    """One sensor's ``control`` object, as the capture thread reads it."""

    exposure_time: int = 1
    sensitivity_iso: int = 850
    auto_exposure_enable: bool = True
    auto_exposure_compensation: int = 0
    auto_exposure_limit: int = 33000
    auto_exposure_lock: bool = False
    contrast: int = 0
    brightness: int = 0
    saturation: int = 0
    chroma_denoise: int = 0
    luma_denoise: int = 0
    auto_whitebalance_lock: bool = False
    auto_whitebalance_mode: str = "AUTO"
    manual_whitebalance: int = 6500

    @classmethod
    def of(cls, values: Mapping[str, JsonValue]) -> SensorControls:
        known = {name: values[name] for name in cls.__dataclass_fields__ if name in values}
        return cls(**known)


def illuminant(kelvin: float) -> tuple[float, float, float]:
    """Relative RGB of light at ``kelvin`` (green 1; neutral at 6500 K)."""
    ratio = 6500.0 / kelvin
    return ratio**0.55, 1.0, (1.0 / ratio) ** 0.6


@dataclass
class IspMemory:
    """What the locks hold; shared by the captures of one sensor."""

    exposure: tuple[float, float] | None = None
    gains: tuple[float, float, float] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


def exposure(c: SensorControls, memory: IspMemory) -> tuple[float, float]:
    """``(exposure time µs, ISO)`` this frame is taken with."""
    if not c.auto_exposure_enable:
        return float(c.exposure_time), float(c.sensitivity_iso)
    with memory.lock:
        if c.auto_exposure_lock and memory.exposure is not None:
            return memory.exposure
        target = NOMINAL_EXPOSURE * 2 ** (c.auto_exposure_compensation / 3)
        time_us = min(target / BASE_ISO, float(c.auto_exposure_limit), MAX_EXPOSURE_US)
        iso = min(max(target / time_us, 100.0), AE_MAX_ISO)
        memory.exposure = (time_us, iso)
        return memory.exposure


def white_balance(
    c: SensorControls, cast_image: npt.NDArray[Any], memory: IspMemory
) -> tuple[float, float, float]:
    """Per-channel gains applied after the scene light's cast."""
    mode = c.auto_whitebalance_mode
    if mode == "AUTO":
        with memory.lock:
            if c.auto_whitebalance_lock and memory.gains is not None:
                return memory.gains
            sample = cast_image[::16, ::16].reshape(-1, 3).mean(axis=0)
            grey = float(sample.mean())
            gains = tuple(grey / max(float(v), 1e-3) for v in sample)
            memory.gains = (gains[0], gains[1], gains[2])
            return memory.gains
    kelvin = float(c.manual_whitebalance) if mode == "OFF" else PRESET_KELVIN[mode]
    assumed = illuminant(kelvin)
    return 1 / assumed[0], 1.0, 1 / assumed[2]


class NoiseBank:
    """A few fixed noise fields per size (drawing fresh noise each frame costs more
    than the rest of the pipeline)."""

    def __init__(self, seed: int = 7) -> None:
        self._rng = np.random.default_rng(seed)
        self._fields: dict[tuple[int, ...], list[npt.NDArray[np.int8]]] = {}
        self._lock = threading.Lock()
        self._turn = 0

    def next(self, shape: tuple[int, ...]) -> npt.NDArray[np.int8]:
        with self._lock:
            fields = self._fields.get(shape)
            if fields is None:
                if len(self._fields) > 8:
                    self._fields.clear()
                fields = [
                    np.clip(self._rng.normal(0, NOISE_SCALE, shape), -127, 127).astype(np.int8)
                    for _ in range(NOISE_VARIANTS)
                ]
                self._fields[shape] = fields
            self._turn += 1
            return fields[self._turn % len(fields)]


def noise_sigma(iso: float) -> float:
    """Grey levels of sensor noise at ``iso``."""
    return 0.6 * math.sqrt(iso / 100.0)


def process(
    raw: npt.NDArray[Any],
    c: SensorControls,
    memory: IspMemory,
    noise: NoiseBank,
) -> npt.NDArray[Any]:
    """One frame: ``raw`` grey (H×W) or RGB (H×W×3) float → uint8 of the same shape."""
    colour = raw.ndim == 3
    time_us, iso = exposure(c, memory)
    gain = time_us * iso / NOMINAL_EXPOSURE
    if colour:
        cast = illuminant(SCENE_KELVIN)
        cast_image = cv2.transform(raw, np.diag(np.array(cast, np.float32)))
        gains = white_balance(c, cast_image, memory)
        matrix = np.zeros((3, 4), np.float32)
        for channel in range(3):
            matrix[channel, channel] = gain * gains[channel]
        linear = cv2.transform(cast_image, matrix)
    else:
        linear = raw * np.float32(gain)
    sigma = noise_sigma(iso)
    linear = cv2.scaleAdd(noise.next(linear.shape).astype(np.float32), sigma / NOISE_SCALE, linear)
    image: npt.NDArray[Any] = np.clip(linear, 0, 255).astype(np.uint8)
    if colour and (c.luma_denoise or c.chroma_denoise):
        ycc = cv2.cvtColor(image, cv2.COLOR_RGB2YCrCb)
        if c.luma_denoise:
            ycc[:, :, 0] = cv2.GaussianBlur(ycc[:, :, 0], (0, 0), 0.6 * c.luma_denoise)
        if c.chroma_denoise:
            for channel in (1, 2):
                ycc[:, :, channel] = cv2.GaussianBlur(
                    ycc[:, :, channel], (0, 0), 1.5 * c.chroma_denoise
                )
        image = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
    elif c.luma_denoise:
        image = cv2.GaussianBlur(image, (0, 0), 0.6 * c.luma_denoise)
    factor = 2 ** (c.contrast / 10)
    offset = 128.0 * (1 - factor) + c.brightness * BRIGHTNESS_STEP
    if factor != 1 or offset != 0:
        image = cv2.addWeighted(image, factor, image, 0.0, offset)  # saturating
    if colour and c.saturation:
        amount = 1 + c.saturation / 10
        grey = cv2.cvtColor(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
        image = cv2.addWeighted(image, amount, grey, 1 - amount, 0.0)
    return image
