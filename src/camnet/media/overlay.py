"""What camnet draws on a composed picture: time and date stamps, the no-signal card.

Stamps go in the bottom-left corner on a dark box so they stay readable on any scene;
they are drawn after rotation and picture in picture, so they always read upright.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Final
from zoneinfo import ZoneInfo

import cv2
import numpy as np

from camnet.devices.sources.base import Image

STAMP_ORIGIN: Final = (0.015, 0.97)
"""Bottom-left corner of the stamp text, as fractions of the picture."""
STAMP_BOX: Final = (0.0, 0.88, 0.40, 1.0)
"""``(left, top, right, bottom)`` that always contains the stamps."""


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def stamp_text(epoch: float, timezone: str, time_stamp: bool, date_stamp: bool) -> str:
    moment = datetime.fromtimestamp(epoch, _zone(timezone))
    parts = []
    if date_stamp:
        parts.append(moment.strftime("%Y-%m-%d"))
    if time_stamp:
        parts.append(moment.strftime("%H:%M:%S"))
    return " ".join(parts)


def draw_stamp(image: Image, text: str) -> None:
    if not text:
        return
    height, width = image.shape[:2]
    scale = height / 720 * 1.2
    thickness = max(1, round(height / 360))
    (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    x, y = round(STAMP_ORIGIN[0] * width), round(STAMP_ORIGIN[1] * height)
    pad = max(2, th // 3)
    top, right = max(0, y - th - pad), min(width, x + tw + pad)
    box = image[top : min(height, y + baseline + pad), max(0, x - pad) : right]
    box[...] = box // 4
    cv2.putText(
        image,
        text,
        (x, y),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )


def no_signal(width: int, height: int, head: int) -> Image:
    """The card shown while the selected head delivers no picture."""
    image = np.full((height, width, 3), 40, dtype=np.uint8)
    text = f"NO SIGNAL - camera head {head}"
    scale = height / 720 * 1.5
    thickness = max(1, round(height / 300))
    (tw, th), _ = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    origin = ((width - tw) // 2, (height + th) // 2)
    cv2.putText(
        image,
        text,
        origin,
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (200, 200, 200),
        thickness,
        cv2.LINE_AA,
    )
    return image
