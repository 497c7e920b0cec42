"""How much video time fits into free bytes: the seed's capacity steps 2-4 (pure).

Step 2, ``(resolution, fps, quality, free bytes) → seconds``, divides the free bytes by
a recording rate in bytes per second. The rate comes from what camnet itself wrote:
every closed segment adds its size and duration to a *calibration* under its settings
(width, height, fps, quality) and the rate is the calibration's bytes per second. Before
anything was recorded at some settings the rate is the nearest calibration scaled by
a model (bytes per pixel and frame times a JPEG quality curve), and with no recording at
all the model alone, whose constant is taken from the seed's example (HD, 30 fps,
quality 75: 60 118 794 240 bytes → 14 313 s, i.e. 0.1519 bytes per pixel and frame).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

SEED_BYTES_PER_PIXEL: Final = 60_118_794_240 / 14_313 / 30 / (1280 * 720)
"""Bytes per pixel and frame at quality 75 implied by the seed's example."""

QUALITY_CURVE: Final = (
    (1, 0.08),
    (10, 0.22),
    (25, 0.42),
    (50, 0.68),
    (75, 1.0),
    (85, 1.3),
    (90, 1.6),
    (95, 2.3),
    (100, 4.5),
)
"""JPEG size relative to quality 75 (typical of camera pictures), linearly interpolated."""

MAX_WEIGHT_SECONDS: Final = 3600.0
"""A calibration remembers at most this much recording time, so it follows a scene that
changes (a busier picture makes larger JPEGs) instead of averaging over all history."""


@dataclass(frozen=True, slots=True, order=True)
class Settings:
    width: int
    height: int
    fps: int
    quality: int

    def key(self) -> str:
        return f"{self.width}x{self.height}@{self.fps}q{self.quality}"

    @classmethod
    def from_key(cls, key: str) -> Settings:
        size, _, rest = key.partition("@")
        width, _, height = size.partition("x")
        fps, _, quality = rest.partition("q")
        return cls(int(width), int(height), int(fps), int(quality))


@dataclass(frozen=True, slots=True)
class Observation:
    """Bytes written in seconds of recording at one setting."""

    bytes: float
    seconds: float

    @property
    def rate(self) -> float:
        return self.bytes / self.seconds

    def add(self, size: float, seconds: float) -> Observation:
        total = self.seconds + seconds
        if total <= MAX_WEIGHT_SECONDS:
            return Observation(self.bytes + size, total)
        keep = max(0.0, MAX_WEIGHT_SECONDS - seconds) / self.seconds if self.seconds else 0.0
        return Observation(self.bytes * keep + size, self.seconds * keep + seconds)


def quality_factor(quality: int) -> float:
    points = [q for q, _ in QUALITY_CURVE]
    quality = min(100, max(1, quality))
    index = bisect_left(points, quality)
    q1, f1 = QUALITY_CURVE[index]
    if q1 == quality or index == 0:
        return f1
    q0, f0 = QUALITY_CURVE[index - 1]
    return f0 + (f1 - f0) * (quality - q0) / (q1 - q0)


def model_rate(settings: Settings) -> float:
    """Bytes per second by the model alone (the seed's constant)."""
    pixels = settings.width * settings.height
    return SEED_BYTES_PER_PIXEL * quality_factor(settings.quality) * pixels * settings.fps


def rate(settings: Settings, calibration: Mapping[Settings, Observation]) -> float:
    """Bytes per second of a recording at ``settings``, from camnet's own recordings."""
    exact = calibration.get(settings)
    if exact is not None and exact.seconds > 0:
        return exact.rate
    usable = [(s, o) for s, o in calibration.items() if o.seconds > 0 and o.bytes > 0]
    if not usable:
        return model_rate(settings)

    def distance(item: tuple[Settings, Observation]) -> tuple[int, int, int, float]:
        s, o = item
        return (
            s.width * s.height != settings.width * settings.height,
            s.quality != settings.quality,
            abs(s.fps - settings.fps),
            -o.seconds,
        )

    nearest, observed = min(usable, key=distance)
    return model_rate(settings) * observed.rate / model_rate(nearest)


def seconds_for(free_bytes: float, bytes_per_second: float) -> int:
    """Step 2: whole seconds of video that fit into ``free_bytes``."""
    if bytes_per_second <= 0:
        return 0
    return max(0, int(free_bytes // bytes_per_second))


def hours_text(seconds: float) -> str:
    """The seed's text form of a duration: ``'15:35h'``."""
    minutes = int(max(0.0, seconds) // 60)
    return f"{minutes // 60}:{minutes % 60:02d}h"


@dataclass(frozen=True, slots=True)
class BackupCapacity:
    """The seed's four steps, as the c2 capacity variables report them."""

    remaining_seconds: int
    """Step 2: video time that fits into the free bytes."""
    deletable_seconds: float
    """Step 3: duration of the backup files that exist and may be deleted (untagged)."""
    stored_seconds: float
    """All backup video on the storage, tagged included."""

    @property
    def total_seconds(self) -> float:
        """Step 4: remaining + deletable."""
        return self.remaining_seconds + self.deletable_seconds

    def variables(self) -> dict[str, str]:
        return {
            "backupStoredFileDuration": hours_text(self.stored_seconds),
            "backupFileCapacity": hours_text(self.deletable_seconds),
            "backupRemainingCapacitySeconds": str(self.remaining_seconds),
            "backupRemainingCapacityHours": f"{self.remaining_seconds / 3600:.2f}",
            "backupRemainingCapacity": hours_text(self.remaining_seconds),
            "storageBackupCapacity": hours_text(self.total_seconds),
        }
