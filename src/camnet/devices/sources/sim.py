"""The simulated camera head: a deterministic moving scene that obeys every control.

Cheap by construction: the still scene is drawn once per (sensor, size) and cached; a
frame is a crop of it (pan, zoom), one per-channel scaling (light, exposure time, gain
and the light's colour cast folded into one 3×4 colour matrix, ``cv2.transform``), the moving
parts (a ball, a sweeping bar, a clock hand) and, when gain is high, sensor noise taken
from a few cached noise fields. At 1280×720 that is well under a millisecond.

Exposure follows a camera's arithmetic: with ``exposure`` (automatic) on, the head
compensates the light with analogue gain, so a dark scene comes out right but noisier;
with it off, brightness is light × exposure time / 10 ms × 10^(gain/20) and noise
grows with gain. A head with one optical sensor mirrors its picture when sensor 1 is
selected, as the seed warns.

With ``time_code`` on (setting ``sim_time_code``, a measurement aid), each frame also
carries its wall-clock capture time as a row of blocks (``camnet.media.timecode``), so a
client that decodes the stream can measure glass-to-glass latency.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from typing import Final

import cv2
import numpy as np

from camnet.devices.sources.base import Image, Matrix, crop_window
from camnet.devices.sources.scene import draw_background, sensor_size
from camnet.media import timecode
from camnet.media.config import HeadView, ImageControls

LIGHT_ON: Final = 1.0
LIGHT_OFF: Final = 0.35
"""Scene brightness with the head's light off, relative to on (ambient light only)."""
CAST_LIGHT: Final = (1.10, 1.0, 0.88)
CAST_AMBIENT: Final = (0.92, 1.0, 1.10)
"""RGB colour cast of the head's (warm) light and of the (cool) ambient light; the
automatic white balance takes it out."""
NOISE_FLOOR: Final = 0.6
NOISE_VARIANTS: Final = 3
_CACHE_SIZE: Final = 6


def exposure(view: HeadView, controls: ImageControls) -> tuple[float, float]:
    """``(factor, noise sigma)`` for the scene, in grey levels at the sensor."""
    light = LIGHT_ON if view.light else LIGHT_OFF
    if controls.auto_exposure:
        gain_db = max(0.0, 20 * math.log10(1 / light))
        return 1.0, NOISE_FLOOR * 10 ** (gain_db / 20)
    gain = 10 ** (controls.gain_db / 20)
    return light * controls.exposure_ms / 10.0 * gain, NOISE_FLOOR * gain


def exposure_matrix(factor: float, cast: tuple[float, float, float]) -> Matrix:
    """The 3×4 colour matrix applying ``factor`` and the colour cast per channel."""
    matrix: Matrix = np.zeros((3, 4), dtype=np.float32)
    for channel in range(3):
        matrix[channel, channel] = factor * cast[channel]
    return matrix


class SimulatedHead:
    """One simulated head; thread-safe (its caches are guarded)."""

    tracks_presence = False

    def __init__(self, head: int, label: str, time_code: bool = False) -> None:
        self.head = head
        self.label = label
        self.time_code = time_code
        self._lock = threading.Lock()
        self._backgrounds: OrderedDict[tuple[int, int, int], Image] = OrderedDict()
        self._noise: OrderedDict[tuple[int, int, int, int], tuple[Image, Image]] = OrderedDict()
        self.frames = 0

    def presence(self) -> bool | None:
        return None

    def release(self) -> None:
        """Nothing to free: the cached scene is memory only and makes the next start quick."""

    def capture(
        self, view: HeadView, controls: ImageControls, width: int, height: int, moment: float
    ) -> Image | None:
        if not view.exists:
            return None
        mirrored = view.sensor == 1 and view.sensors < 2
        sensor = 0 if mirrored else view.sensor
        background = self._background(sensor, width, height)
        x, y, w, h = crop_window(view, background.shape[1], background.shape[0])
        window = background[y : y + h, x : x + w]
        if (w, h) != (width, height):
            window = cv2.resize(window, (width, height), interpolation=cv2.INTER_LINEAR)
        if mirrored:
            window = cv2.flip(window, 1)
        factor, sigma = exposure(view, controls)
        matrix = exposure_matrix(factor, CAST_LIGHT if view.light else CAST_AMBIENT)
        image: Image = cv2.transform(window, matrix)
        _draw_moving_parts(image, matrix, moment)
        if sigma >= 2.0:
            positive, negative = self._noise_fields(width, height, sigma, moment)
            cv2.add(image, positive, dst=image)
            cv2.subtract(image, negative, dst=image)
        if self.time_code:
            timecode.draw(image, round(time.time() * 1000))
        self.frames += 1
        return image

    def _background(self, sensor: int, width: int, height: int) -> Image:
        key = (sensor, width, height)
        with self._lock:
            cached = self._backgrounds.get(key)
            if cached is not None:
                self._backgrounds.move_to_end(key)
                return cached
        sw, sh = sensor_size(width, height)
        drawn = draw_background(self.head, sensor, self.label, sw, sh)
        with self._lock:
            self._backgrounds[key] = drawn
            while len(self._backgrounds) > _CACHE_SIZE:
                self._backgrounds.popitem(last=False)
        return drawn

    def _noise_fields(
        self, width: int, height: int, sigma: float, moment: float
    ) -> tuple[Image, Image]:
        """Positive and negative halves of a Gaussian noise field (cached per level)."""
        level = min(64, round(sigma))
        variant = int(moment * 30) % NOISE_VARIANTS
        key = (width, height, level, variant)
        with self._lock:
            cached = self._noise.get(key)
            if cached is not None:
                return cached
        rng = np.random.default_rng(hash(key) & 0xFFFF)
        field = rng.normal(0.0, level, size=(height, width, 1)).astype(np.float32)
        field = np.repeat(field, 3, axis=2)
        positive = np.clip(field, 0, 255).astype(np.uint8)
        negative = np.clip(-field, 0, 255).astype(np.uint8)
        with self._lock:
            self._noise[key] = (positive, negative)
            while len(self._noise) > _CACHE_SIZE * NOISE_VARIANTS:
                self._noise.popitem(last=False)
        return positive, negative


BALL_COLOUR: Final = (255, 170, 40)
BAR_COLOUR: Final = (240, 240, 240)
CLOCK_CENTRE: Final = (0.5, 0.2)
"""Where the clock sits in the picture (fractions); its hand turns once in 10 s."""


def _draw_moving_parts(image: Image, matrix: Matrix, moment: float) -> None:
    """The parts of the scene that move, in the picture's coordinates, seen through the
    same exposure as the rest (``matrix``)."""
    height, width = image.shape[:2]

    def seen(colour: tuple[int, int, int]) -> tuple[int, int, int]:
        r, g, b = (
            min(255, round(float(matrix[channel, channel]) * value))
            for channel, value in enumerate(colour)
        )
        return r, g, b

    cx = width * (0.5 + 0.15 * math.sin(2 * math.pi * moment / 4.0))
    cy = height * (0.5 + 0.10 * math.sin(2 * math.pi * moment / 3.0))
    cv2.circle(image, (round(cx), round(cy)), round(height * 0.05), seen(BALL_COLOUR), -1)
    sweep = (moment / 2.0) % 1.0
    bar_x = round(width * (0.25 + 0.5 * sweep))
    bar_w = max(2, width // 100)
    image[round(height * 0.4) : round(height * 0.6), bar_x : bar_x + bar_w] = seen(BAR_COLOUR)
    centre = (round(width * CLOCK_CENTRE[0]), round(height * CLOCK_CENTRE[1]))
    radius = round(height * 0.08)
    thickness = max(1, height // 240)
    cv2.circle(image, centre, radius, seen(BAR_COLOUR), thickness, cv2.LINE_AA)
    angle = 2 * math.pi * (moment % 10.0) / 10.0
    tip = (
        round(centre[0] + 0.9 * radius * math.sin(angle)),
        round(centre[1] - 0.9 * radius * math.cos(angle)),
    )
    cv2.line(image, centre, tip, seen(BAR_COLOUR), thickness, cv2.LINE_AA)
