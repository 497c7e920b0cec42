"""One stream's picture from its heads: select, process, rotate, inset, stamp.

Runs on a hub's capture thread. The selected head's picture goes through the image
pipeline and its head's rotation; with ``pip`` 1-4 the other head, at a quarter of the
size, is drawn into that corner (with a thin border so the inset reads as one); the
stamps come last, so they are never rotated or covered.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Final

import cv2

from camnet.devices.sources.base import FrameSource, Image
from camnet.media import isp, overlay
from camnet.media.config import HeadView, StreamConfig

PIP_SCALE: Final = 4
PIP_MARGIN: Final = 0.02
"""Gap between the inset and the picture's edges, as a fraction of the height."""


def pip_rect(pip: int, width: int, height: int) -> tuple[int, int, int, int]:
    """``(x, y, w, h)`` of the picture-in-picture inset for corner ``pip`` (1-4)."""
    w, h = (width // PIP_SCALE) & ~1, (height // PIP_SCALE) & ~1
    margin = round(height * PIP_MARGIN)
    x = margin if pip in (1, 3) else width - w - margin
    y = margin if pip in (1, 2) else height - h - margin
    return x, y, w, h


class HeadSources:
    """The sources of the heads, shared by every hub; freed when no hub captures."""

    def __init__(self, sources: Sequence[FrameSource | None]) -> None:
        self.sources = tuple(sources)
        self._lock = threading.Lock()
        self._users = 0

    def get(self, head: int) -> FrameSource | None:
        return self.sources[head] if head < len(self.sources) else None

    def start_using(self) -> None:
        with self._lock:
            self._users += 1

    def stop_using(self) -> None:
        with self._lock:
            self._users -= 1
            idle = self._users == 0
        if idle:
            for source in self.sources:
                if source is not None:
                    source.release()


class Composer:
    """Turns a ``StreamConfig`` into a picture, from one source per head."""

    def __init__(self, sources: HeadSources) -> None:
        self._sources = sources

    def start(self) -> None:
        """A hub starts capturing."""
        self._sources.start_using()

    def stop(self) -> None:
        """A hub stopped capturing; the sources are freed when it was the last."""
        self._sources.stop_using()

    def _head(
        self, view: HeadView, config: StreamConfig, width: int, height: int, moment: float
    ) -> Image | None:
        source = self._sources.get(view.head)
        if source is None:
            return None
        # Asked even when the state says the head is absent: the source is what notices
        # that it is back.
        image = source.capture(view, config.controls, width, height, moment)
        if image is None:
            return None
        image = isp.apply(image, config.controls)
        if view.rotate_180:
            image = cv2.flip(image, -1)
        return image

    def compose(self, config: StreamConfig, moment: float, epoch: float) -> Image | None:
        """The stream's picture at ``moment``; None when the selected head has none."""
        image = self._head(config.main, config, config.width, config.height, moment)
        if image is None:
            return None
        inset_view = config.inset
        if inset_view is not None and self._sources.get(inset_view.head) is not None:
            x, y, w, h = pip_rect(config.pip, config.width, config.height)
            inset = self._head(inset_view, config, w, h, moment)
            if inset is None:
                inset = overlay.no_signal(w, h, inset_view.head)
            border = max(1, config.height // 360)
            image[y - border : y + h + border, x - border : x + w + border] = 255
            image[y : y + h, x : x + w] = inset
        if config.time_stamp or config.date_stamp:
            text = overlay.stamp_text(epoch, config.timezone, config.time_stamp, config.date_stamp)
            overlay.draw_stamp(image, text)
        return image
