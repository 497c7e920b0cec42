"""Which RTSP path plays which stream: a small registry other services extend.

camnet registers ``/`` (the live stream, as ``/camera.mjpeg`` shows it) and one path
per camera head (``/head0``, ``/head1``). Another service adds its streams with
``register`` (the streams dialect: ``/cameras/{mxid}/{stream}``). One encoder exists per
hub, however many paths or clients lead to it.

Each path has the account that owns its camera (this node's own devices are in the
default account); the RTSP server lets a caller watch it only with the camera
permission in that account, as ``/camera.jpeg`` does.
"""

from __future__ import annotations

from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.media.hub import StreamHub
from camnet.protocols.rtsp.encoder import H264Encoder


class RtspSources:
    def __init__(self) -> None:
        self._hubs: dict[str, StreamHub] = {}
        self._owners: dict[str, str] = {}
        self._encoders: dict[int, H264Encoder] = {}

    def register(self, path: str, hub: StreamHub, account: str = DEFAULT_ACCOUNT) -> None:
        """Serve ``hub`` at ``rtsp://host:port{path}`` (``path`` starts with ``/``), a
        camera of ``account``."""
        if not path.startswith("/"):
            raise ValueError(f"an RTSP path starts with '/': {path!r}")
        key = path.rstrip("/") or "/"
        self._hubs[key] = hub
        self._owners[key] = account

    def unregister(self, path: str) -> None:
        key = path.rstrip("/") or "/"
        self._hubs.pop(key, None)
        self._owners.pop(key, None)

    def owner(self, path: str) -> str | None:
        """The account whose camera ``path`` shows; None for a path that plays nothing."""
        return self._owners.get(path)

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
