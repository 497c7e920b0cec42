"""Stereo depth from a rectified pair: OpenCV semi-global matching, and how it is shown.

``DepthMatcher`` runs ``cv2.StereoSGBM`` with the left image as reference, a left-right
consistency check and speckle filtering, so a pixel it cannot match with confidence is
*invalid* (0) rather than wrong. Its disparity range follows the image width (the same
scene spans twice the pixels at twice the width). The pair is matched with a margin of
extra columns on the left, as a sensor wider than its output gives it, so the left edge
of the output has partners in the right image; the margin is cut off afterwards.

Shown as the streams document says: lighter is closer (grey = disparity, invalid black).
Depth in millimetres is ``f·B / d``, delivered as 16-bit PNG (0: no depth).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[Any]

REFERENCE_DISPARITIES: Final = 64
"""Disparity search range at 640 px width (closest object at 441·75/64 ≈ 0.52 m)."""
BLOCK: Final = 5


def disparities_for(width: int) -> int:
    """The search range at ``width``: 64 at 640 px, scaled, a multiple of 16."""
    return max(16, round(REFERENCE_DISPARITIES * width / 640 / 16) * 16)


@dataclass(frozen=True, slots=True)
class DepthResult:
    disparity: Floats
    """Pixels; 0 where invalid."""
    max_disparity: int


class DepthMatcher:
    """Semi-global matching on 8-bit grey pairs. Not thread-safe: one per worker."""

    def __init__(self) -> None:
        self._matchers: dict[int, cv2.StereoSGBM] = {}

    def _matcher(self, disparities: int) -> cv2.StereoSGBM:
        matcher = self._matchers.get(disparities)
        if matcher is None:
            matcher = cv2.StereoSGBM.create(
                minDisparity=0,
                numDisparities=disparities,
                blockSize=BLOCK,
                P1=8 * BLOCK * BLOCK,
                P2=32 * BLOCK * BLOCK,
                disp12MaxDiff=1,
                uniquenessRatio=10,
                speckleWindowSize=100,
                speckleRange=2,
                mode=cv2.STEREO_SGBM_MODE_SGBM,
            )
            self._matchers[disparities] = matcher
        return matcher

    def match(self, left: np.ndarray, right: np.ndarray, margin: int) -> DepthResult:
        """Disparity of ``left`` (both images ``margin`` columns wider than the output)."""
        width = left.shape[1] - margin
        disparities = disparities_for(width)
        raw = self._matcher(disparities).compute(left, right)
        disparity = raw[:, margin:].astype(np.float32) / 16.0
        disparity[disparity <= 0] = 0.0
        return DepthResult(disparity, disparities)


def margin_for(width: int) -> int:
    """Extra columns the pair is captured with: the whole search range."""
    return disparities_for(width)


def shade(result: DepthResult) -> npt.NDArray[Any]:
    """RGB picture of the disparity: lighter is closer, invalid black."""
    grey = np.clip(result.disparity * (255.0 / result.max_disparity), 0, 255).astype(np.uint8)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2RGB)


def millimetres(result: DepthResult, focal_px: float, baseline_mm: float) -> np.ndarray:
    """Depth in millimetres as uint16 (0: unknown, capped at 65535)."""
    d = result.disparity
    depth = np.zeros(d.shape, np.float32)
    valid = d > 0
    depth[valid] = focal_px * baseline_mm / d[valid]
    return np.clip(np.rint(depth), 0, 65535).astype(np.uint16)


@dataclass(frozen=True, slots=True)
class Accuracy:
    valid: float
    """Fraction of pixels with a disparity."""
    within_one: float
    """Fraction of valid pixels within 1 px of the truth."""
    mean_error: float
    """Mean absolute error of valid pixels, in pixels."""


def accuracy(result: DepthResult, truth: Floats) -> Accuracy:
    d = result.disparity
    valid = d > 0
    count = int(valid.sum())
    if count == 0:
        return Accuracy(0.0, 0.0, float("inf"))
    error = np.abs(d[valid] - truth[valid])
    return Accuracy(count / d.size, float((error <= 1.0).sum()) / count, float(error.mean()))
