"""Reading the live endpoints, without I/O: the c2 WebSocket's messages and the MJPEG
stream's parts (framing from :mod:`camnet.media.mjpeg`, the server's own parser)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from camnet.client.errors import ProtocolError, error_from_message
from camnet.client.models import Frame, StateChange
from camnet.media.mjpeg import MultipartError, PartParser


def websocket_url(base_url: str) -> str:
    """``ws(s)://host:port/api`` for an ``http(s)://host:port`` server address."""
    base = base_url.rstrip("/")
    if base.startswith("https://"):
        return "wss://" + base[len("https://") :] + "/api"
    if base.startswith("http://"):
        return "ws://" + base[len("http://") :] + "/api"
    raise ValueError(f"the server address must start with http:// or https://: {base_url!r}")


def state_message(message: str | bytes, initial: bool) -> StateChange:
    """A WebSocket message as a change; an ``{"error": …}`` message raises it."""
    try:
        data: Any = json.loads(message)
    except ValueError:
        raise ProtocolError("a WebSocket message that is not JSON", body=message) from None
    if not isinstance(data, dict):
        raise ProtocolError("a WebSocket message that is not a JSON object", body=data)
    error = data.get("error")
    if isinstance(error, dict) and "message" in error:
        raise error_from_message(data)
    return StateChange(values=data, initial=initial)


@dataclass
class FrameReader:
    """Feed the bytes of ``/camera.mjpeg``; take out whole frames."""

    _parser: PartParser = field(default_factory=PartParser)

    def feed(self, data: bytes) -> list[Frame]:
        try:
            parts = self._parser.feed(data)
        except MultipartError as exc:
            raise ProtocolError(f"the MJPEG stream does not parse: {exc}") from None
        frames = []
        for headers, body in parts:
            stamp = headers.get("x-timestamp")
            try:
                timestamp = float(stamp) if stamp is not None else None
            except ValueError:
                timestamp = None
            frames.append(Frame(body, timestamp))
        return frames
