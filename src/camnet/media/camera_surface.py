"""What the streams face needs of a multi-sensor camera, wherever it runs.

``CameraStreams`` (a camera of this node) and ``RemoteCamera`` (one of another node,
``camnet.network.remote_nodes``) both have it. A camera whose images are not here has
no ``hubs``: the face then answers its stills and video with 501.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from camnet.devices.profiles.stereo import CameraModel, StreamSpec
from camnet.devices.surface import DeviceSurface
from camnet.media.hub import StreamHub
from camnet.media.image_formats import StillFormat


class CameraSurface(Protocol):
    @property
    def device(self) -> DeviceSurface: ...

    @property
    def model(self) -> CameraModel: ...

    @property
    def mxid(self) -> str: ...

    @property
    def hubs(self) -> Mapping[str, StreamHub]: ...

    def spec(self, stream: str) -> StreamSpec | None: ...

    def is_active(self, stream: str) -> bool: ...

    async def still(self, stream: str, fmt: StillFormat) -> tuple[bytes, str]: ...


class CameraDirectory(Protocol):
    def get(self, mxid: str) -> CameraSurface | None: ...

    def mxids(self) -> list[str]:
        """Every camera's mxid, in the order ``GET /cameras/`` lists them."""
        ...
