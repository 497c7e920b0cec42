"""A real camera head through OpenCV: a V4L2 device, an RTSP/HTTP URL or a video file.

The source opens on the first capture and closes when no hub captures any more. When
it drops (the device is unplugged, the stream ends, the file disappears) it reports the
head absent, returns no picture (the hub shows the no-signal card) and tries again after
a backoff that doubles from 0.25 s up to ``reconnect_max``. A video file plays in a loop
at the stream's rate. Pan and zoom crop the source's picture digitally (at zoom 0 the
whole picture shows); sensor selection does not apply to a single OpenCV source.

While nobody captures, presence is checked without capturing: a device node or file
must exist. A URL cannot be checked without connecting, so its last known presence
stands until the next capture.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit, urlunsplit

import cv2

from camnet.devices.sources.base import Image, crop_window
from camnet.media.config import HeadView, ImageControls

log = logging.getLogger(__name__)

FIRST_BACKOFF: Final = 0.25
PATH_CHECK_INTERVAL: Final = 0.5
"""Seconds between checks that a file or device node still exists while capturing (an
open file keeps playing after it is deleted; a removed camera is gone)."""
CAPTURING_WINDOW: Final = 2.0
"""A head captured from within this many seconds reports presence from its reads; after
that (a hub stopped asking for it) presence is checked without capturing."""
SHARE_WINDOW: Final = 0.010
"""Two captures this close together (live and backup hub) share one read."""


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """What ``camera0_opencv``/``camera1_opencv`` names, parsed once."""

    target: int | str
    """What ``cv2.VideoCapture`` opens: a device index, a URL or a path."""
    path: str | None
    """A file or device node whose existence says whether the head is there."""
    url: bool
    """Network source: presence is known only by connecting."""
    looping: bool
    """A video file: start again at its end."""

    @classmethod
    def parse(cls, text: str) -> SourceSpec:
        text = text.strip()
        if text.isdigit():
            return cls(int(text), f"/dev/video{int(text)}", url=False, looping=False)
        if "://" in text:
            return cls(text, None, url=True, looping=False)
        looping = not text.startswith("/dev/")
        return cls(text, text, url=False, looping=looping)


def redacted(target: int | str) -> str:
    """A source for the logs: credentials in a URL are replaced."""
    if isinstance(target, int) or "://" not in target:
        return str(target)
    parts = urlsplit(target)
    if parts.username is None and parts.password is None:
        return target
    netloc = "***@" + (parts.hostname or "") + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class OpenCvHead:
    tracks_presence = True

    def __init__(self, head: int, spec: str, reconnect_max: float = 5.0) -> None:
        self.head = head
        self.spec = SourceSpec.parse(spec)
        self._reconnect_max = reconnect_max
        self._lock = threading.Lock()
        self._capture: cv2.VideoCapture | None = None
        self._present: bool | None = None
        self._backoff = FIRST_BACKOFF
        self._next_attempt = 0.0
        self._checked_at = 0.0
        self._latest: Image | None = None
        self._latest_at = 0.0
        self._captured_at = -CAPTURING_WINDOW
        self.reads = 0
        self.opens = 0

    # --- capture thread -----------------------------------------------------------------

    def capture(
        self, view: HeadView, controls: ImageControls, width: int, height: int, moment: float
    ) -> Image | None:
        with self._lock:
            self._captured_at = moment
            raw: Image | None
            if self._latest is not None and 0 <= moment - self._latest_at < SHARE_WINDOW:
                raw = self._latest
            else:
                raw = self._read(moment)
                self._latest, self._latest_at = raw, moment
        if raw is None:
            return None
        x, y, w, h = crop_window(view, raw.shape[1], raw.shape[0], field=1.0)
        window = raw[y : y + h, x : x + w]
        if (w, h) != (width, height):
            window = cv2.resize(window, (width, height), interpolation=cv2.INTER_AREA)
        image: Image = cv2.cvtColor(window, cv2.COLOR_BGR2RGB)
        return image

    def _read(self, moment: float) -> Image | None:
        if self._capture is None and not self._open(moment):
            return None
        capture = self._capture
        assert capture is not None
        path = self.spec.path
        if path is not None and moment - self._checked_at >= PATH_CHECK_INTERVAL:
            self._checked_at = moment
            if not os.path.exists(path):
                self._fail(moment, "is gone")
                return None
        ok, frame = capture.read()
        if not ok and self.spec.looping:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = capture.read()
        if not ok or frame is None:
            self._fail(moment, "delivers no frames")
            return None
        self.reads += 1
        if self._present is not True:
            log.info("camera head %d: %s delivers frames", self.head, redacted(self.spec.target))
        self._present = True
        self._backoff = FIRST_BACKOFF
        result: Image = frame
        return result

    def _open(self, moment: float) -> bool:
        if moment < self._next_attempt:
            return False
        if self.spec.path is not None and not os.path.exists(self.spec.path):
            self._fail(moment, "does not exist")
            return False
        self.opens += 1
        capture = cv2.VideoCapture(self.spec.target)
        if not capture.isOpened():
            capture.release()
            self._fail(moment, "cannot be opened")
            return False
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        self._checked_at = moment
        return True

    def _fail(self, moment: float, why: str) -> None:
        if self._present is not False:
            log.warning(
                "camera head %d: %s %s; retrying in %.2f s",
                self.head,
                redacted(self.spec.target),
                why,
                self._backoff,
            )
        self._present = False
        self._close()
        self._next_attempt = moment + self._backoff
        self._backoff = min(self._backoff * 2, self._reconnect_max)

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
        self._latest = None

    def release(self) -> None:
        with self._lock:
            self._captured_at = -CAPTURING_WINDOW
            self._close()
            self._next_attempt = 0.0
            self._backoff = FIRST_BACKOFF

    # --- any thread -----------------------------------------------------------------------

    def presence(self) -> bool | None:
        with self._lock:
            if time.monotonic() - self._captured_at < CAPTURING_WINDOW:
                return self._present
            known = self._present
        if self.spec.path is not None:
            return os.path.exists(self.spec.path)
        return known
