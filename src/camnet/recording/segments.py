"""Matroska segments of JPEG frames, muxed by PyAV without re-encoding.

Each JPEG the live pipeline made becomes one ``mjpeg`` packet (every packet a key
frame), time-stamped in milliseconds from the segment's first frame. Matroska is chosen
because a file cut off anywhere is still playable up to its last complete cluster;
camnet closes a cluster at least every ``CLUSTER_MS`` and flushes every packet to the
operating system (``flush_packets``), so a process killed with ``kill -9`` loses at most
the last ``CLUSTER_MS`` of video. Writing is blocking I/O: a writer lives on one thread.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Final

import av
import av.container

CLUSTER_MS: Final = 500
TIME_BASE: Final = Fraction(1, 1000)


@dataclass(frozen=True, slots=True)
class Probe:
    """What a file holds: its decodable frames and the time span they cover."""

    frames: int
    duration: float
    size: int


class SegmentWriter:
    def __init__(self, path: Path, width: int, height: int, fps: int) -> None:
        self.path = path
        self.frames = 0
        self.last_ms = 0
        self._first: float | None = None
        self._container: av.container.OutputContainer = av.open(
            str(path),
            "w",
            format="matroska",
            options={"cluster_time_limit": str(CLUSTER_MS), "flush_packets": "1"},
        )
        try:
            stream = self._container.add_stream("mjpeg", rate=fps)
            stream.width = width
            stream.height = height
            stream.pix_fmt = "yuvj420p"
            stream.time_base = TIME_BASE
            self._stream = stream
        except Exception:
            self._container.close()
            raise

    def write(self, jpeg: bytes, moment: float) -> None:
        """Add one JPEG captured at ``moment`` (monotonic seconds)."""
        if self._first is None:
            self._first = moment
        ms = max(self.last_ms + 1 if self.frames else 0, round((moment - self._first) * 1000))
        packet = av.Packet(jpeg)
        packet.stream = self._stream
        packet.pts = packet.dts = ms
        packet.time_base = TIME_BASE
        packet.is_keyframe = True
        self._container.mux(packet)
        self.frames += 1
        self.last_ms = ms

    @property
    def size(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0

    def close(self) -> None:
        """Finish the file (cues, duration) and make it durable."""
        self._container.close()
        with contextlib.suppress(OSError):
            fd = os.open(self.path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def abandon(self) -> None:
        """Close after a write failed (disk full, medium gone); errors are expected."""
        with contextlib.suppress(Exception):
            self._container.close()


def probe(path: Path) -> Probe:
    """Decode-free count of the packets a (possibly cut-off) file holds."""
    frames = 0
    first: int | None = None
    last = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                if packet.pts is None or packet.size == 0:
                    continue
                frames += 1
                first = packet.pts if first is None else first
                last = packet.pts
            base = stream.time_base or TIME_BASE
    except (av.error.FFmpegError, IndexError, OSError):
        base = TIME_BASE
    size = path.stat().st_size if path.exists() else 0
    duration = float((last - (first or 0)) * base) if frames else 0.0
    return Probe(frames, duration, size)
