"""The interface a multi-sensor camera's frames come through, and the simulated one.

``StereoSource.capture`` gives one sensor's raw picture (float grey levels, or RGB for a
colour sensor, at nominal exposure); the image pipeline (``media.sensor_isp``) and depth
(``media.depth``) take it from there. The simulated source renders ``scene`` from each
sensor's place on the baseline; its colour sensor's lens defocuses every surface by how
far it is from the focused distance. A ``depthai`` driver for real OAK cameras would
implement the same protocol; camnet does not ship one yet (see ``docs/streams.md``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final, Protocol

from camnet.devices.stereo.scene import Floats, SceneRenderer, StereoGeometry

DIOPTRES_AT_FULL_LENS: Final = 10.0
"""``lens_position`` 1.0 focuses at 1/10 m; 0.0 at infinity."""
BLUR_PER_DIOPTRE: Final = 4.0
"""Defocus blur (Gaussian sigma, px at 640 width) per dioptre of focus error."""
EDOF_FACTOR: Final = 0.25
_CACHE: Final = 8


def lens_for_distance(distance_mm: float) -> float:
    """The lens position that focuses at ``distance_mm``."""
    return min(1.0, max(0.0, 1000.0 / distance_mm / DIOPTRES_AT_FULL_LENS))


@dataclass(frozen=True, slots=True)
class Lens:
    position: float
    edof: bool = False


@dataclass(frozen=True, slots=True)
class SensorPlace:
    t: float
    """Place on the baseline: 0 left, 1 right."""
    colour: bool


class StereoSource(Protocol):
    """One camera's sensors. Called from capture threads; must be thread-safe."""

    geometry: StereoGeometry

    def capture(
        self, sensor: str, width: int, height: int, *, margin: int = 0, lens: Lens | None = None
    ) -> Floats:
        """Raw picture of ``sensor``; ``margin`` more columns on the left."""
        ...


SIM_SENSORS: Final[Mapping[str, SensorPlace]] = {
    "CAM_A": SensorPlace(0.5, colour=True),
    "CAM_B": SensorPlace(0.0, colour=False),
    "CAM_C": SensorPlace(1.0, colour=False),
}


class SimulatedStereoSource:
    """Renders the synthetic scene; the scene is still, so renders are cached."""

    def __init__(self, geometry: StereoGeometry) -> None:
        self.geometry = geometry
        self.renderer = SceneRenderer(geometry)
        self._cache: OrderedDict[tuple[object, ...], Floats] = OrderedDict()
        self._lock = threading.Lock()

    def _blur(self, width: int, lens: Lens | None) -> dict[str, float] | None:
        if lens is None:
            return None
        focused = lens.position * DIOPTRES_AT_FULL_LENS
        scale = BLUR_PER_DIOPTRE * width / 640 * (EDOF_FACTOR if lens.edof else 1.0)
        return {
            name: round(abs(focused - 1000.0 / depth) * scale, 2)
            for name, depth in self.renderer.surface_depths().items()
        }

    def capture(
        self, sensor: str, width: int, height: int, *, margin: int = 0, lens: Lens | None = None
    ) -> Floats:
        place = SIM_SENSORS[sensor]
        blur = self._blur(width, lens)
        key = (sensor, width, height, margin, tuple(sorted((blur or {}).items())))
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            rendered = self.renderer.render(
                place.t, width, height, colour=place.colour, margin=margin, blur=blur
            )
            self._cache[key] = rendered.image
            while len(self._cache) > _CACHE:
                self._cache.popitem(last=False)
            return rendered.image

    def ground_truth(self, width: int, height: int) -> Floats:
        """True disparity of the left sensor at ``width × height``."""
        return self.renderer.ground_truth(width, height)
