"""The simulated head's scene: what it looks at, drawn once per size and cached.

Pure drawing, no state: a gradient in the head's own colours with a grid (so sharpness,
noise and zoom show), the head's name, and the **marker**, a block in the head's colour
that sits in the top-left corner of the picture at the default pan and zoom. Tests and
people read orientation (rotation, mirroring), head identity (camera switch, picture in
picture) and pan from where the marker is and what colour it has.
"""

from __future__ import annotations

from typing import Final

import cv2
import numpy as np

from camnet.devices.sources.base import FIELD_OF_VIEW, Image

MARKER_BOX: Final = (0.04, 0.06, 0.20, 0.30)
"""``(left, top, right, bottom)`` of the marker as fractions of the picture, at the
default pan (50, 50) and zoom 0."""
MARKER_COLOURS: Final = ((220, 30, 30), (30, 210, 210))
"""RGB of each head's marker: head 0 red, head 1 cyan."""
_GRADIENTS: Final = (
    # (top colour, bottom colour) per head and sensor: lightly tinted greys, so that the
    # grey-world white balance leaves whites white
    (((95, 102, 120), (35, 38, 46)), ((90, 112, 96), (35, 45, 38))),
    (((120, 106, 94), (46, 40, 35)), ((112, 95, 116), (42, 35, 45))),
)
GRID_STEPS: Final = 12
SENSOR_SCALE: Final = 1 / FIELD_OF_VIEW


def sensor_size(width: int, height: int) -> tuple[int, int]:
    """The virtual sensor behind a picture of ``width × height``."""
    return round(width * SENSOR_SCALE), round(height * SENSOR_SCALE)


def _view_to_sensor(fraction: float) -> float:
    """Where a fraction of the default (centred, unzoomed) view lies on the sensor."""
    return (1 - FIELD_OF_VIEW) / 2 + fraction * FIELD_OF_VIEW


def draw_background(head: int, sensor: int, label: str, width: int, height: int) -> Image:
    """The still part of one head's scene on a sensor of ``width × height``."""
    top, bottom = (np.array(c, dtype=np.float32) for c in _GRADIENTS[head][sensor])
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    x = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :, None]
    if sensor == 0:  # light from above
        picture = top * (1 - y) + bottom * y + 20.0 * x
    else:  # the second sensor looks the other way: light from the left
        picture = top * (1 - x) / 2 + bottom * (1 + x) / 2 + 10.0 * y
    image: Image = np.clip(picture, 0, 255).astype(np.uint8)
    line = max(1, height // 400)
    for step in range(1, GRID_STEPS):
        gx, gy = width * step // GRID_STEPS, height * step // GRID_STEPS
        image[:, gx : gx + line] = np.minimum(image[:, gx : gx + line].astype(np.int16) + 45, 255)
        image[gy : gy + line, :] = np.minimum(image[gy : gy + line, :].astype(np.int16) + 45, 255)
    left, upper, right, lower = MARKER_BOX
    x0, x1 = round(_view_to_sensor(left) * width), round(_view_to_sensor(right) * width)
    y0, y1 = round(_view_to_sensor(upper) * height), round(_view_to_sensor(lower) * height)
    image[y0:y1, x0:x1] = MARKER_COLOURS[head]
    scale = height / 540
    thickness = max(1, round(3 * scale))
    for text, fy, size in ((label, 0.62, 1.6), (f"sensor {sensor}", 0.70, 0.9)):
        (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, size * scale, thickness)
        origin = ((width - tw) // 2, round(fy * height) + th // 2)
        cv2.putText(
            image,
            text,
            origin,
            cv2.FONT_HERSHEY_SIMPLEX,
            size * scale,
            (230, 230, 230),
            thickness,
            cv2.LINE_AA,
        )
    return image
