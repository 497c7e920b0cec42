"""RTSP 1.0 (RFC 2326) framing, sans I/O: bytes in, requests out; responses to bytes.

A client's byte stream mixes requests and, over TCP, interleaved binary frames
(``$``, channel, 16-bit length, data: its RTCP receiver reports). ``RequestReader``
takes whatever arrived and yields complete requests, skipping interleaved frames.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Final
from urllib.parse import urlsplit

MAX_HEAD: Final = 16 * 1024
MAX_BODY: Final = 64 * 1024

REASONS: Final[Mapping[int, str]] = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    454: "Session Not Found",
    455: "Method Not Valid in This State",
    459: "Aggregate Operation Not Allowed",
    461: "Unsupported Transport",
    500: "Internal Server Error",
    503: "Service Unavailable",
    505: "RTSP Version Not Supported",
}


class ProtocolError(Exception):
    """Bytes that are not RTSP; the connection is answered 400 and closed."""


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    url: str
    version: str
    headers: Mapping[str, str]
    """Header names lower-cased; a repeated header keeps its last value."""
    body: bytes = b""

    @property
    def cseq(self) -> str:
        return self.headers.get("cseq", "0")

    @property
    def path(self) -> str:
        """The URL's path without a trailing ``/trackID=…`` control suffix or slash."""
        path = urlsplit(self.url).path if "://" in self.url else self.url
        if "/trackID=" in path:
            path = path[: path.index("/trackID=")]
        return path.rstrip("/") or "/"


@dataclass(slots=True)
class RequestReader:
    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> Iterator[Request]:
        self.buffer += data
        while self.buffer:
            if self.buffer[0] == 0x24:  # '$': an interleaved frame from the client
                if len(self.buffer) < 4:
                    return
                size = int.from_bytes(self.buffer[2:4], "big")
                if len(self.buffer) < 4 + size:
                    return
                del self.buffer[: 4 + size]
                continue
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                if len(self.buffer) > MAX_HEAD:
                    raise ProtocolError("request head too long")
                return
            head = bytes(self.buffer[:end]).decode("utf-8", "replace")
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("RTSP/"):
                raise ProtocolError(f"not an RTSP request line: {lines[0][:80]!r}")
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if not sep:
                    raise ProtocolError(f"malformed header line: {line[:80]!r}")
                headers[name.strip().lower()] = value.strip()
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                raise ProtocolError("Content-Length is not a number") from None
            if not 0 <= length <= MAX_BODY:
                raise ProtocolError("body too large")
            if len(self.buffer) < end + 4 + length:
                return
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            yield Request(parts[0].upper(), parts[1], parts[2], headers, body)


def response(
    status: int,
    cseq: str,
    headers: Sequence[tuple[str, str]] = (),
    body: bytes = b"",
) -> bytes:
    lines = [f"RTSP/1.0 {status} {REASONS.get(status, 'Error')}", f"CSeq: {cseq}"]
    lines.append("Server: camnet")
    for name, value in headers:
        lines.append(f"{name}: {value}")
    if body:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass(frozen=True, slots=True)
class Transport:
    """What a SETUP asked for: RTP over the RTSP connection, or over UDP to client ports."""

    interleaved: tuple[int, int] | None = None
    client_ports: tuple[int, int] | None = None


def parse_transport(header: str) -> Transport | None:
    """The first acceptable choice of a ``Transport`` header (None: none acceptable)."""
    for choice in header.split(","):
        fields = [f.strip() for f in choice.split(";")]
        spec = fields[0].upper()
        params = dict(f.partition("=")[::2] for f in fields[1:])
        if spec == "RTP/AVP/TCP":
            channels = _pair(params.get("interleaved", "0-1"))
            if channels is not None:
                return Transport(interleaved=channels)
        elif spec in ("RTP/AVP", "RTP/AVP/UDP") and "multicast" not in params:
            ports = _pair(params.get("client_port", ""))
            if ports is not None:
                return Transport(client_ports=ports)
    return None


def _pair(text: str) -> tuple[int, int] | None:
    first, _, second = text.partition("-")
    try:
        a = int(first)
        b = int(second) if second else a + 1
    except ValueError:
        return None
    if not (0 <= a <= 65535 and 0 <= b <= 65535):
        return None
    return a, b


def sdp(address: str, control: str, payload_type: int, fmtp: str, session_id: int) -> bytes:
    """A session description for one H.264 video track (RFC 4566, RFC 6184)."""
    family = "IP6" if ":" in address else "IP4"
    lines = [
        "v=0",
        f"o=- {session_id} 1 IN {family} {address}",
        "s=camnet live",
        f"c=IN {family} 0.0.0.0" if family == "IP4" else f"c=IN {family} ::",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {payload_type}",
        f"a=rtpmap:{payload_type} H264/90000",
        f"a=fmtp:{payload_type} {fmtp}",
        f"a=control:{control}",
    ]
    return ("\r\n".join(lines) + "\r\n").encode()
