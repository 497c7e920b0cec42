"""One synthetic 3-D scene seen by every sensor of the simulated stereo camera.

The scene is a room: a textured back wall, a floor that recedes towards it, and three
boxes facing the camera at known distances. Every surface is either fronto-parallel
(one disparity) or the floor (disparity linear in the row), so the disparity of every
pixel between the two mono sensors is known exactly: ``d = f·B / Z``. Pure drawing,
no state; the camera caches what it renders.

A view is taken from a point on the baseline: ``t = 0`` is the left sensor (the
reference of the depth map), ``t = 1`` the right one, ``t = 0.5`` the colour sensor in
the middle. A surface point at left-image column ``x`` appears at ``x − t·d`` in view
``t``, so rendering samples each surface's texture at ``x + t·d`` (``cv2.remap``),
painting far to near.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import cv2
import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[Any]
"""A float32 picture or map (typed loosely: OpenCV returns untyped arrays)."""

REFERENCE_WIDTH: Final = 640
"""Width at which ``StereoGeometry.focal_px`` is given; it scales with the width."""


@dataclass(frozen=True, slots=True)
class StereoGeometry:
    baseline_mm: float = 75.0
    focal_px: float = 441.0
    """Focal length in pixels at ``REFERENCE_WIDTH`` (OAK-D mono: about 72° across)."""
    camera_height_mm: float = 600.0
    """How high the camera is above the floor."""

    def focal_at(self, width: int) -> float:
        return self.focal_px * width / REFERENCE_WIDTH

    def disparity(self, depth_mm: float, width: int) -> float:
        return self.focal_at(width) * self.baseline_mm / depth_mm

    def depth(self, disparity: float, width: int) -> float:
        return self.focal_at(width) * self.baseline_mm / disparity


@dataclass(frozen=True, slots=True)
class Surface:
    name: str
    depth_mm: float
    """Distance; for the floor, the distance where it meets the wall."""
    box: tuple[float, float, float, float]
    """``(left, top, right, bottom)`` in fractions of the left image."""
    tint: tuple[float, float, float]
    seed: int
    floor: bool = False


WALL_MM: Final = 4000.0
SUBJECT: Final = "subject"

SURFACES: Final = (
    Surface("wall", WALL_MM, (-1.0, -1.0, 2.0, 2.0), (0.80, 0.85, 1.00), 11),
    Surface("floor", WALL_MM, (-1.0, 0.0, 2.0, 2.0), (0.95, 0.85, 0.70), 12, floor=True),
    Surface("shelf", 2600.0, (0.06, 0.12, 0.36, 0.62), (0.70, 1.00, 0.75), 13),
    Surface(SUBJECT, 1500.0, (0.40, 0.28, 0.66, 0.78), (1.00, 0.55, 0.45), 14),
    Surface("crate", 950.0, (0.72, 0.50, 0.98, 0.96), (0.55, 0.70, 1.00), 15),
)
"""Far to near: the painting order."""


def _texture(seed: int, width: int, height: int) -> Floats:
    """Multi-scale value noise (0..255): features at every scale, so block matching
    finds a unique match and the picture reads as surfaces, not static."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width), np.float32)
    scale = max(1.0, width / (REFERENCE_WIDTH * 3))
    for cell, weight in ((2, 0.35), (5, 0.3), (13, 0.2), (40, 0.15)):
        step = max(1, round(cell * scale))
        small = rng.random((height // step + 2, width // step + 2), dtype=np.float32)
        big = cv2.resize(small, None, fx=step, fy=step, interpolation=cv2.INTER_CUBIC)
        out += weight * big[:height, :width]
    texture: Floats = np.clip(out * 200.0 + 20.0, 0, 255)
    return texture


def _floor_rows(geometry: StereoGeometry, height: int, top: float) -> Floats:
    """Disparity of the floor in each row (0 above the horizon)."""
    rows = np.arange(height, dtype=np.float32) - (top + height / 2.0)
    disparity: Floats = np.maximum(rows, 0.0) * np.float32(
        geometry.baseline_mm / geometry.camera_height_mm
    )
    return disparity


def defocus(image: Floats, sigma: float) -> Floats:
    """Gaussian blur; a wide one is done on a smaller copy (same look, far cheaper)."""
    if sigma <= 3.0:
        blurred: Floats = cv2.GaussianBlur(image, (0, 0), sigma)
        return blurred
    height, width = image.shape[:2]
    factor = sigma / 3.0
    small = cv2.resize(
        image,
        (max(1, round(width / factor)), max(1, round(height / factor))),
        interpolation=cv2.INTER_AREA,
    )
    small = cv2.GaussianBlur(small, (0, 0), 3.0)
    blurred = cv2.resize(small, (width, height), interpolation=cv2.INTER_LINEAR)
    return blurred


@dataclass(frozen=True, slots=True)
class Rendered:
    image: Floats
    """Grey levels 0..255 (mono) or RGB (colour), float32."""
    disparity: Floats
    """Disparity of the nearest surface at each pixel, in this view's pixels."""
    depth_mm: Floats


class SceneRenderer:
    """Draws views of the scene at any size (textures are made per size and kept)."""

    def __init__(self, geometry: StereoGeometry) -> None:
        self.geometry = geometry
        self._textures: dict[tuple[str, int, int], Floats] = {}

    def _surface_disparity(self, surface: Surface, width: int, rows: Floats) -> Floats:
        if surface.floor:
            return rows
        return np.full_like(rows, self.geometry.disparity(surface.depth_mm, width))

    def render(
        self,
        t: float,
        width: int,
        height: int,
        *,
        colour: bool,
        margin: int = 0,
        blur: dict[str, float] | None = None,
    ) -> Rendered:
        """View ``t`` (0 left … 1 right) of ``width × height``; ``margin`` columns more
        are drawn on the left (the sensor sees wider than its output), ``blur`` gives
        each surface's defocus (Gaussian sigma in pixels)."""
        total = width + margin
        geometry = self.geometry
        wall_d = geometry.disparity(WALL_MM, width)
        floor = _floor_rows(geometry, height, 0.0)
        horizon = float(np.argmax(floor > wall_d)) if (floor > wall_d).any() else height
        pad = int(np.ceil(max(float(floor.max()), wall_d))) + margin + 2
        xs = np.arange(total, dtype=np.float32)[None, :] - margin
        ys = np.arange(height, dtype=np.float32)[:, None]
        channels = 3 if colour else 1
        image = np.zeros((height, total, channels), np.float32)
        disparity = np.zeros((height, total), np.float32)
        for surface in SURFACES:
            d_rows = self._surface_disparity(surface, width, floor)[:, None]
            source_x = xs + np.float32(t) * d_rows + pad
            source_y = np.broadcast_to(ys, source_x.shape).astype(np.float32)
            texture = self._texture_for(surface, width + 2 * pad, height)
            left, top, right, bottom = surface.box
            x0, x1 = left * width + pad, right * width + pad
            y0 = horizon if surface.floor else top * height
            y1 = bottom * height
            inside = (source_x >= x0) & (source_x < x1) & (source_y >= y0) & (source_y < y1)
            mask: Floats = inside.astype(np.float32)
            sigma = (blur or {}).get(surface.name, 0.0)
            sampled = cv2.remap(texture, source_x, source_y, cv2.INTER_LINEAR)
            if sigma > 0.3:
                sampled = defocus(sampled, sigma)
                mask = defocus(mask, sigma)
            hard = mask > 0.5
            disparity[hard] = np.broadcast_to(d_rows, disparity.shape)[hard]
            for c in range(channels):
                tint = surface.tint[c] if colour else float(np.mean(surface.tint))
                layer = image[:, :, c]
                layer *= 1.0 - mask
                layer += mask * sampled * np.float32(tint)
        depth = np.where(
            disparity > 0,
            geometry.focal_at(width) * geometry.baseline_mm / np.maximum(disparity, 1e-6),
            0.0,
        ).astype(np.float32)
        return Rendered(image if colour else image[:, :, 0], disparity, depth)

    def _texture_for(self, surface: Surface, width: int, height: int) -> Floats:
        key = (surface.name, width, height)
        texture = self._textures.get(key)
        if texture is None:
            if len(self._textures) > 64:
                self._textures.clear()
            texture = _texture(surface.seed, width, height)
            self._textures[key] = texture
        return texture

    def ground_truth(self, width: int, height: int) -> Floats:
        """True disparity of the left view (the depth map's reference)."""
        return self.render(0.0, width, height, colour=False).disparity

    def subject_depth_mm(self) -> float:
        return next(s.depth_mm for s in SURFACES if s.name == SUBJECT)

    def surface_depths(self) -> dict[str, float]:
        """A representative distance per surface (the floor: halfway along)."""
        return {s.name: (s.depth_mm * 0.6 if s.floor else s.depth_mm) for s in SURFACES}
