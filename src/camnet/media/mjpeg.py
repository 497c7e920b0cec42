"""MJPEG over HTTP (``multipart/x-mixed-replace``): framing and parsing, no I/O.

Each part carries ``Content-Type: image/jpeg`` and ``Content-Length``, as the c2 seed
asks, so a client can read a part by its length instead of scanning for the boundary.
The part bytes are built once per frame on the capture thread and sent as they are to
every viewer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

BOUNDARY: Final = "camnetframe"
CONTENT_TYPE: Final = f"multipart/x-mixed-replace; boundary={BOUNDARY}"
_DELIMITER: Final = b"--" + BOUNDARY.encode() + b"\r\n"


def part(jpeg: bytes, captured: float | None = None) -> bytes:
    """One multipart part: delimiter, headers, the JPEG and the line break after it.

    ``captured`` (epoch seconds) goes into an ``X-Timestamp`` header, as mjpg-streamer
    sends it, so a client can tell how old a frame is.
    """
    head = b"Content-Type: image/jpeg\r\nContent-Length: %d\r\n" % len(jpeg)
    if captured is not None:
        head += b"X-Timestamp: %.6f\r\n" % captured
    return b"".join((_DELIMITER, head, b"\r\n", jpeg, b"\r\n"))


class MultipartError(ValueError):
    """The bytes are not a multipart stream this parser understands."""


@dataclass
class PartParser:
    """Feed bytes of a ``multipart/x-mixed-replace`` body; take out whole JPEGs.

    Parts are read by their ``Content-Length``; a part without one is an error (this
    parser is for camnet's streams and for checking that they carry one).
    """

    boundary: bytes = BOUNDARY.encode()
    _buffer: bytearray = field(default_factory=bytearray)
    _length: int = -1
    _headers: dict[str, str] = field(default_factory=dict)

    def feed(self, data: bytes) -> list[tuple[dict[str, str], bytes]]:
        """Every part completed by ``data``, as (headers with lower-case names, body)."""
        self._buffer += data
        parts: list[tuple[dict[str, str], bytes]] = []
        while True:
            if self._length < 0:
                start = self._buffer.find(b"--" + self.boundary)
                if start < 0:
                    return parts
                end = self._buffer.find(b"\r\n\r\n", start)
                if end < 0:
                    return parts
                lines = bytes(self._buffer[start:end]).decode("latin-1").split("\r\n")[1:]
                headers = {}
                for line in lines:
                    name, sep, value = line.partition(":")
                    if not sep:
                        raise MultipartError(f"malformed part header {line!r}")
                    headers[name.strip().lower()] = value.strip()
                if "content-length" not in headers:
                    raise MultipartError("part without Content-Length")
                self._headers = headers
                self._length = int(headers["content-length"])
                del self._buffer[: end + 4]
            if len(self._buffer) < self._length:
                return parts
            parts.append((self._headers, bytes(self._buffer[: self._length])))
            del self._buffer[: self._length]
            self._length = -1
