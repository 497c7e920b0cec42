"""Still image encodings: JPEG through libjpeg-turbo, the others through OpenCV."""

from __future__ import annotations

from typing import Final, Literal

import cv2
import numpy as np
import simplejpeg

StillFormat = Literal["jpeg", "png", "webp", "bmp", "tiff"]
FORMATS: Final[tuple[StillFormat, ...]] = ("jpeg", "png", "webp", "bmp", "tiff")
MEDIA_TYPES: Final[dict[str, str]] = {
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
}
JPEG_QUALITY: Final = 90


def encode(image: np.ndarray, fmt: StillFormat) -> bytes:
    """``image`` is RGB uint8 (H×W×3)."""
    if fmt == "jpeg":
        data: bytes = simplejpeg.encode_jpeg(image, quality=JPEG_QUALITY, colorspace="RGB")
        return data
    params = [cv2.IMWRITE_WEBP_QUALITY, JPEG_QUALITY] if fmt == "webp" else []
    ok, buffer = cv2.imencode(f".{fmt}", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), params)
    if not ok:  # pragma: no cover - OpenCV builds without a codec
        raise RuntimeError(f"OpenCV cannot encode {fmt}")
    return buffer.tobytes()


def encode_png16(depth: np.ndarray) -> bytes:
    """A single-channel 16-bit PNG (depth in millimetres)."""
    assert depth.dtype == np.uint16
    ok, buffer = cv2.imencode(".png", depth)
    if not ok:  # pragma: no cover
        raise RuntimeError("OpenCV cannot encode 16-bit PNG")
    return buffer.tobytes()
