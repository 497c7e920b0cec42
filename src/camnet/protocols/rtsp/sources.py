"""Which RTSP path plays which stream: a small registry other services extend.

camnet registers ``/`` (the live stream, as ``/camera.mjpeg`` shows it) and one path
per camera head (``/head0``, ``/head1``). Another service adds its streams with
``register`` (the streams dialect: ``/cameras/{mxid}/{stream}``). The encoders come from
the node's ``EncoderPool``: one per hub, however many paths, RTSP clients or WebSocket
viewers lead to it.
"""

from __future__ import annotations

from camnet.media.h264 import EncoderPool, H264Encoder
from camnet.media.hub import StreamHub


class RtspSources:
    def __init__(self, encoders: EncoderPool) -> None:
        self._hubs: dict[str, StreamHub] = {}
        self._encoders = encoders

    def register(self, path: str, hub: StreamHub) -> None:
        """Serve ``hub`` at ``rtsp://host:port{path}`` (``path`` starts with ``/``)."""
        if not path.startswith("/"):
            raise ValueError(f"an RTSP path starts with '/': {path!r}")
        self._hubs[path.rstrip("/") or "/"] = hub

    def unregister(self, path: str) -> None:
        self._hubs.pop(path.rstrip("/") or "/", None)

    @property
    def paths(self) -> list[str]:
        return sorted(self._hubs)

    def encoder(self, path: str) -> H264Encoder | None:
        hub = self._hubs.get(path)
        return None if hub is None else self._encoders.encoder(hub)

    def encoders(self) -> dict[str, H264Encoder]:
        """Path → encoder for every path whose encoder exists."""
        found: dict[str, H264Encoder] = {}
        for path, hub in self._hubs.items():
            encoder = self._encoders.existing(hub)
            if encoder is not None:
                found[path] = encoder
        return found
