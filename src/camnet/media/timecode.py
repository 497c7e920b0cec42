"""A machine-readable capture-time stamp in the picture: a row of black/white blocks.

Why: latency measured from RTP timestamps and sender reports stops where the packets
arrive; glass-to-glass latency also counts decoding, so the clock has to travel *in the
picture*. The simulated head can draw the wall-clock capture time (ms, mod 2^48) into
each raw frame before encoding; a client that decodes the stream reads it back and
subtracts it from its own clock (same machine, same clock).

Layout, in the bottom-left corner: ``GUARD_START``, 48 data bits (most significant first,
white = 1), ``GUARD_STOP``, each a square block of ``block_size(width)`` pixels (16 at
1280 wide, never less than 8), one block in from the left and bottom edges. Reading takes
the mean of the inner half of each block and thresholds it halfway between the guards'
black and white means, so it survives JPEG/H.264 compression, scaling of the levels by
white balance or exposure, and mild noise.

Pure functions on numpy images (H×W×C or H×W, uint8); no state.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import numpy.typing as npt

BITS: Final = 48
MODULUS: Final = 1 << BITS
GUARD_START: Final = (1, 0, 1, 0)
GUARD_STOP: Final = (0, 1, 0, 1)
BLOCKS: Final = len(GUARD_START) + BITS + len(GUARD_STOP)
MIN_BLOCK: Final = 8
MIN_CONTRAST: Final = 40.0
"""Smallest difference between the guards' white and black means (grey levels) for a
reading to count: below it the corner holds no time code."""

Picture = npt.NDArray[Any]
"""An image, H×W×C or H×W; uint8 levels."""


def block_size(width: int) -> int:
    """Side of one block for a picture ``width`` wide: 16 px at 1280, 8 at 640."""
    return max(MIN_BLOCK, width // 80)


def fits(width: int, height: int) -> bool:
    """Whether the row (with its one-block margins) fits the picture."""
    block = block_size(width)
    return (BLOCKS + 2) * block <= width and 3 * block <= height


def _bits(value_ms: int) -> list[int]:
    value = value_ms % MODULUS
    data = [(value >> (BITS - 1 - i)) & 1 for i in range(BITS)]
    return [*GUARD_START, *data, *GUARD_STOP]


def draw(image: Picture, value_ms: int) -> None:
    """Draws ``value_ms`` (mod 2^48) into ``image`` in place; nothing when it does not fit."""
    height, width = image.shape[:2]
    if not fits(width, height):
        return
    block = block_size(width)
    top = height - 2 * block
    for index, bit in enumerate(_bits(value_ms)):
        left = (index + 1) * block
        image[top : top + block, left : left + block] = 255 if bit else 0


def read(image: Picture) -> int | None:
    """The time code in ``image`` (ms mod 2^48), or None when its guards are not there."""
    height, width = image.shape[:2]
    if not fits(width, height):
        return None
    block = block_size(width)
    top = height - 2 * block
    inner = block // 4
    row = image[top + inner : top + block - inner, block : (BLOCKS + 1) * block]
    if row.ndim == 3:
        row = row.mean(axis=2)
    # mean of the inner half of each block, column by column
    columns = row.mean(axis=0).reshape(BLOCKS, block)[:, inner : block - inner]
    means = columns.mean(axis=1)
    guard_bits = (*GUARD_START, *GUARD_STOP)
    guard_means = np.concatenate((means[: len(GUARD_START)], means[-len(GUARD_STOP) :]))
    whites = [m for m, bit in zip(guard_means, guard_bits, strict=True) if bit]
    blacks = [m for m, bit in zip(guard_means, guard_bits, strict=True) if not bit]
    if min(whites) - max(blacks) < MIN_CONTRAST:
        return None
    threshold = (min(whites) + max(blacks)) / 2
    value = 0
    for mean in means[len(GUARD_START) : len(GUARD_START) + BITS]:
        value = (value << 1) | int(mean > threshold)
    return value


def age_ms(now_ms: int, stamp_ms: int) -> int:
    """``now_ms − stamp_ms`` on the 2^48 ring (negative when the stamp is ahead)."""
    return (now_ms - stamp_ms + MODULUS // 2) % MODULUS - MODULUS // 2
