"""Robopipe Studio's requests, replayed: where each comes from in its code, and a small
fMP4 WebSocket viewer that reads the messages as its ``VideoPlayer`` does.

Studio (github ``Robopipe/Studio``, ``web/apps/labelstudio/src/``) builds its camera
URLs from ``window.APP_SETTINGS.robopipeHostname``:

- ``config/ApiConfig.js:10`` ``cameras: "rbp:/cameras"`` and ``:11`` ``streams:
  "rbp:/cameras/:mxid/streams"``, sent by ``utils/api-proxy.js`` (``createUrl`` strips
  the trailing slash; ``mode: "cors"``, ``credentials: "omit"`` for another origin);
- ``providers/CameraProvider.tsx:32`` the WebSocket base
  ``ws://host/cameras/{mxid}/streams/{name}``, to which
  ``pages/Capture/CaptureLive/CaptureLive.jsx:142`` appends ``/video``;
- ``components/VideoPlayer/VideoPlayer.jsx:28-33`` a ``SourceBuffer`` for
  ``video/mp4; codecs="avc1.42E01E"`` in ``sequence`` mode, ``binaryType =
  "arraybuffer"``, and ``:85-96`` every binary message appended as it is.
"""

from __future__ import annotations

import asyncio
import io
import re
import struct
from collections.abc import Mapping

import av
import httpx
import numpy as np
from websockets.asyncio.client import ClientConnection, connect

from camnet.media import fmp4

STUDIO_ORIGIN = "http://studio.example:8080"


def ws_url(base: str, mxid: str, stream: str) -> str:
    """``CameraProvider.tsx:28-32`` + ``CaptureLive.jsx:142``."""
    return base.replace("http://", "ws://", 1) + f"/cameras/{mxid}/streams/{stream}/video"


async def open_video(
    base: str, mxid: str, stream: str, headers: Mapping[str, str]
) -> ClientConnection:
    return await connect(ws_url(base, mxid, stream), additional_headers=dict(headers))


async def receive_fragments(ws: ClientConnection, count: int, timeout: float = 30) -> list[bytes]:
    """``count`` binary messages (``VideoPlayer.jsx:85-88`` drops anything that is not an
    ArrayBuffer or is empty)."""
    messages: list[bytes] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while len(messages) < count:
        remaining = deadline - loop.time()
        assert remaining > 0, f"only {len(messages)} of {count} messages arrived"
        data = await asyncio.wait_for(ws.recv(), remaining)
        assert isinstance(data, bytes), "Studio ignores text messages: all must be binary"
        if data:
            messages.append(data)
    return messages


def kinds(message: bytes) -> list[bytes]:
    return [kind for kind, _ in fmp4.boxes(message)]


def timeline(message: bytes) -> tuple[int, int]:
    """A fragment's decode time (``tfdt``) and its one sample's duration (``trun``)."""
    moof = dict(fmp4.boxes(message))[b"moof"]
    traf = dict(fmp4.boxes(moof))[b"traf"]
    parts = dict(fmp4.boxes(traf))
    (decode_time,) = struct.unpack(">Q", parts[b"tfdt"][4:12])
    (duration,) = struct.unpack(">I", parts[b"trun"][12:16])
    return decode_time, duration


def decode(messages: list[bytes]) -> list[np.ndarray]:
    """What Studio's SourceBuffer gets, decoded by a real decoder (FFmpeg, via PyAV)."""
    with av.open(io.BytesIO(b"".join(messages)), format="mp4", mode="r") as container:
        return [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]


_SAMPLE = re.compile(r'^(camnet_h264_[a-z_]+?)(?:_total)?\{stream="([^"]+)"\} ([0-9.e+]+)$')


def encoder_metrics(client: httpx.Client, stream_suffix: str) -> dict[str, float]:
    """The shared encoder's counters of the hub whose name ends with ``stream_suffix``,
    from ``/metrics`` (``camnet_h264_*``)."""
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    found: dict[str, float] = {}
    for line in response.text.splitlines():
        match = _SAMPLE.match(line)
        if match and match.group(2).endswith(stream_suffix):
            found[match.group(1)] = float(match.group(3))
    return found
