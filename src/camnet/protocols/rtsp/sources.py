"""Which RTSP path plays which stream: a small registry other services extend.

camnet registers ``/`` (the live stream, as ``/camera.mjpeg`` shows it) and one path
per camera head (``/head0``, ``/head1``). Another service adds its streams with
``register`` (the streams dialect: ``/cameras/{mxid}/{stream}``). One encoder exists per
hub, however many paths or clients lead to it.
"""

from __future__ import annotations

from camnet.media.hub import StreamHub
from camnet.protocols.rtsp.encoder import H264Encoder


class RtspSources:
    def __init__(self) -> None:
        self._hubs: dict[str, StreamHub] = {}
        self._encoders: dict[int, H264Encoder] = {}

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
        if hub is None:
            return None
        encoder = self._encoders.get(id(hub))
        if encoder is None:
            encoder = H264Encoder(path, hub)
            self._encoders[id(hub)] = encoder
        return encoder

    def encoders(self) -> dict[str, H264Encoder]:
        """Path → encoder for every path whose encoder exists."""
        found: dict[str, H264Encoder] = {}
        for path, hub in self._hubs.items():
            encoder = self._encoders.get(id(hub))
            if encoder is not None:
                found[path] = encoder
        return found

    async def stop(self) -> None:
        for encoder in self._encoders.values():
            await encoder.stop()
