"""A raw MJPEG viewer for the benchmarks: an asyncio Protocol that never copies a JPEG.

It sends one ``GET``, reads the response head, undoes chunked transfer coding when the
server uses it (uvicorn does; motion does not), and reads the multipart stream by each
part's ``Content-Length``: only header bytes are buffered, a JPEG's bytes are counted
and dropped. Per viewer it keeps the number of parts and, when a part carries
``X-Timestamp`` (camnet and the naive reference do), the age of the frame on arrival.
"""

from __future__ import annotations

import asyncio
import time
from typing import cast


class MjpegViewer(asyncio.Protocol):
    __slots__ = (
        "_body_left",
        "_chunk_left",
        "_chunked",
        "_head",
        "_head_done",
        "_part_head",
        "_pending",
        "_request",
        "_transport",
        "ages",
        "bytes",
        "first",
        "frames",
        "keep_ages",
        "status",
    )

    def __init__(self, request: bytes, keep_ages: bool) -> None:
        self._request = request
        self._transport: asyncio.Transport | None = None
        self._head = bytearray()
        self._head_done = False
        self._chunked = False
        self._chunk_left = 0  # bytes of chunk data left; -1: reading a size line
        self._pending = bytearray()  # a chunk-size line (or the CRLF after a chunk) so far
        self._part_head = bytearray()  # part-header bytes so far
        self._body_left = 0  # JPEG bytes (plus the CRLF after them) still to skip
        self.frames = 0
        self.bytes = 0
        self.status = 0
        self.keep_ages = keep_ages
        self.ages: list[float] = []
        self.first: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._transport.write(self._request)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None
        if not self.first.done():
            self.first.set_exception(ConnectionError(f"closed (status {self.status})"))

    @property
    def closed(self) -> bool:
        return self._transport is None

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self.bytes += len(data)
        view = memoryview(data)
        if not self._head_done:
            self._head += data
            end = self._head.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._head[:end]).decode("latin-1").lower()
            self.status = int(head.split(" ", 2)[1])
            self._chunked = "transfer-encoding: chunked" in head
            self._chunk_left = -1 if self._chunked else 0
            self._head_done = True
            view = memoryview(bytes(self._head[end + 4 :]))
            self._head.clear()
        if not self._chunked:
            self._multipart(view)
            return
        while view:
            if self._chunk_left > 0:
                take = min(self._chunk_left, len(view))
                self._multipart(view[:take])
                self._chunk_left -= take
                view = view[take:]
                if self._chunk_left == 0:
                    self._chunk_left = -2  # the CRLF after the chunk data
                continue
            if self._chunk_left == -2:
                skip = min(2 - len(self._pending), len(view))
                self._pending += view[:skip]
                view = view[skip:]
                if len(self._pending) == 2:
                    self._pending.clear()
                    self._chunk_left = -1
                continue
            probe = bytes(self._pending) + bytes(view[:34])  # a size line is short
            end = probe.find(b"\r\n")
            if end < 0:
                self._pending += view
                return
            line = probe[:end]
            view = view[end + 2 - len(self._pending) :]
            self._pending.clear()
            size = int(line.split(b";")[0], 16)
            if size == 0:
                self.close()
                return
            self._chunk_left = size

    def _multipart(self, view: memoryview) -> None:
        while view:
            if self._body_left > 0:
                take = min(self._body_left, len(view))
                self._body_left -= take
                view = view[take:]
                continue
            part = self._part_head
            part += view
            end = part.find(b"\r\n\r\n", 2)
            if end < 0:
                if len(part) > 4096:
                    raise ValueError("part header too long")
                return
            headers = bytes(part[:end]).lower()
            rest = len(part) - (end + 4)
            part.clear()
            length = -1
            stamp = 0.0
            for line in headers.split(b"\r\n"):
                if line.startswith(b"content-length:"):
                    length = int(line[15:])
                elif line.startswith(b"x-timestamp:"):
                    stamp = float(line[12:])
            if length < 0:
                continue  # the preamble before the first delimiter, or a stray line
            self.frames += 1
            if self.keep_ages and stamp:
                self.ages.append(time.time() - stamp)
            if not self.first.done():
                self.first.set_result(None)
            # Skip the JPEG and the CRLF after it; what of it arrived is in the view.
            consumed = len(view) - rest
            view = view[consumed:]
            self._body_left = length + 2
