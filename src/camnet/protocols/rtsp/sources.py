"""Which RTSP path plays which stream: a small registry other services extend.

camnet registers ``/`` (the live stream, as ``/camera.mjpeg`` shows it) and one path
per camera head (``/head0``, ``/head1``). Another service adds its streams with
``register`` (the streams dialect: ``/cameras/{mxid}/{stream}``). The encoders come from
the node's ``EncoderPool``: one per hub, however many paths, RTSP clients or WebSocket
viewers lead to it.


Each path has the account that owns its camera (this node's own devices are in the
default account); the RTSP server lets a caller watch it only with the camera
permission in that account, as ``/camera.jpeg`` does.
"""

from __future__ import annotations

from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.media.h264 import EncoderPool, H264Encoder
from camnet.media.hub import StreamHub


class RtspSources:
    def __init__(self, encoders: EncoderPool) -> None:
        self._hubs: dict[str, StreamHub] = {}
        self._encoders = encoders
        self._owners: dict[str, str] = {}

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
        return None if hub is None else self._encoders.encoder(hub)

    def encoders(self) -> dict[str, H264Encoder]:
        """Path → encoder for every path whose encoder exists."""
        found: dict[str, H264Encoder] = {}
        for path, hub in self._hubs.items():
            encoder = self._encoders.existing(hub)
            if encoder is not None:
                found[path] = encoder
        return found
