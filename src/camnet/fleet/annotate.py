"""The annotated image of an image request: the device name, the time, and boxes around
the regions that changed since the device's previous request (pure, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

import cv2
import numpy as np
import numpy.typing as npt

Gray = npt.NDArray[np.uint8]
Region = tuple[int, int, int, int]
"""``(x, y, width, height)`` in the full picture's pixels."""

SCALE: Final = 4
"""The comparison runs on a picture this many times smaller: noise drops out, it is fast."""
THRESHOLD: Final = 25
MIN_AREA: Final = 16
"""Smallest changed blob kept, in pixels of the small picture."""
BOX_COLOUR: Final = (255, 64, 0)


def small_gray(image: npt.NDArray[np.uint8]) -> Gray:
    gray = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    height, width = gray.shape
    small = cv2.resize(gray, (max(1, width // SCALE), max(1, height // SCALE)))
    return np.asarray(cv2.GaussianBlur(small, (5, 5), 0), dtype=np.uint8)


def changed_regions(previous: Gray | None, current: Gray) -> list[Region]:
    """Bounding boxes of what differs; everything is new when there is no previous."""
    if previous is None or previous.shape != current.shape:
        return []
    difference = cv2.absdiff(previous, current)
    _, mask = cv2.threshold(difference, THRESHOLD, 255, cv2.THRESH_BINARY)
    mask = cv2.dilate(mask, np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    regions = []
    for contour in contours:
        if cv2.contourArea(contour) < MIN_AREA:
            continue
        x, y, w, h = cv2.boundingRect(contour)
        regions.append((x * SCALE, y * SCALE, w * SCALE, h * SCALE))
    return sorted(regions)


def annotate(
    image: npt.NDArray[np.uint8], name: str, epoch: float, regions: list[Region]
) -> npt.NDArray[np.uint8]:
    """A copy of ``image`` (RGB) with the regions boxed and name and time written on top."""
    out = image.copy()
    height, width = out.shape[:2]
    thickness = max(1, round(height / 360))
    for x, y, w, h in regions:
        cv2.rectangle(
            out, (x, y), (min(width - 1, x + w), min(height - 1, y + h)), BOX_COLOUR, thickness
        )
    moment = datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    text = f"{name}  {moment}  changed regions: {len(regions)}"
    scale = height / 720 * 0.9
    (tw, th), baseline = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
    band = out[0 : th + baseline + 8, 0 : min(width, tw + 12)]
    band[...] = band // 4
    cv2.putText(
        out,
        text,
        (6, th + 4),
        cv2.FONT_HERSHEY_SIMPLEX,
        scale,
        (255, 255, 255),
        thickness,
        cv2.LINE_AA,
    )
    return out
