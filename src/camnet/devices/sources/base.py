"""The one interface every frame source implements, and the virtual-sensor geometry."""

from __future__ import annotations

from typing import Final, Protocol

import numpy as np
import numpy.typing as npt
from cv2.typing import MatLike

from camnet.devices.profiles.c2 import ZOOM_MAX
from camnet.media.config import HeadView, ImageControls

Image = MatLike
"""An RGB picture, ``height × width × 3`` of uint8 (OpenCV's array type, which numpy's
uint8 arrays are)."""

Matrix = npt.NDArray[np.float32]
"""A 3×4 colour matrix for ``cv2.transform``: per-pixel ``M[:, :3] @ rgb + M[:, 3]``."""

MAX_ZOOM_FACTOR: Final = 4.0
"""``zoom = 31424`` (the seed's maximum) magnifies this many times."""
FIELD_OF_VIEW: Final = 2 / 3
"""At zoom 0 a head sees this fraction of its virtual sensor in each direction, so pan
moves the picture even unzoomed (the sensor is 1.5 × the stream in each direction)."""


class FrameSource(Protocol):
    """One camera head. Called only from a hub's capture thread; must be thread-safe
    because the live and backup hubs may capture from the same head."""

    tracks_presence: bool
    """True when the head can come and go (``presence`` gives a bool), so its presence
    is watched and reported as ``camNExists``."""

    def capture(
        self, view: HeadView, controls: ImageControls, width: int, height: int, moment: float
    ) -> Image | None:
        """A new picture of ``width × height`` at ``moment`` (monotonic seconds), or None
        while the head delivers nothing (unplugged, reconnecting). The caller owns the
        returned array and may draw on it."""
        ...

    def release(self) -> None:
        """Free what capturing holds (devices, connections); the next capture reopens."""
        ...

    def presence(self) -> bool | None:
        """Whether the head is there: while capturing, whether frames arrive; otherwise
        a check that captures nothing (a device node or file exists). None: this source
        does not track presence (a simulated head is always there). May block briefly."""
        ...


def zoom_factor(zoom: int) -> float:
    return 1.0 + (MAX_ZOOM_FACTOR - 1.0) * max(0, min(zoom, ZOOM_MAX)) / ZOOM_MAX


def crop_window(
    view: HeadView, sensor_width: int, sensor_height: int, field: float = FIELD_OF_VIEW
) -> tuple[int, int, int, int]:
    """``(x, y, width, height)`` of the part of the sensor that pan and zoom select.

    Unzoomed, the window is ``field`` of the sensor; pan 0..100 moves it from one edge
    of the sensor to the other and 50 centres it.
    """
    fraction = field / zoom_factor(view.zoom)
    width = max(2, round(sensor_width * fraction))
    height = max(2, round(sensor_height * fraction))
    x = round((sensor_width - width) * min(max(view.pan_x, 0.0), 100.0) / 100.0)
    y = round((sensor_height - height) * min(max(view.pan_y, 0.0), 100.0) / 100.0)
    return x, y, width, height
