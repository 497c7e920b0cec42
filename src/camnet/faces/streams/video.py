"""``/cameras/{mxid}/streams/{stream}/video``: a stream's live MJPEG, from its hub.

The same fan-out as ``/camera.mjpeg``: each viewer awaits "a frame newer than mine"
and sends the frame's prebuilt multipart part as it is; a slow viewer skips frames.
The response ends when the client goes, the stream is deactivated or the node stops.
"""

from __future__ import annotations

import asyncio
import contextlib

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from camnet.media import mjpeg
from camnet.media.hub import HubStopped, StreamHub

NO_STORE = "no-store, no-cache, must-revalidate"


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class MjpegResponse(Response):
    media_type = mjpeg.CONTENT_TYPE

    def __init__(self, hub: StreamHub) -> None:
        super().__init__(media_type=mjpeg.CONTENT_TYPE)
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No Content-Length: the body lasts as long as the viewer watches.
        headers = [
            (b"content-type", mjpeg.CONTENT_TYPE.encode()),
            (b"cache-control", NO_STORE.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        gone = asyncio.ensure_future(_disconnected(receive))
        try:
            async with self._hub.consuming():
                sequence = -1
                while not gone.done():
                    frame = await self._hub.newer_than(sequence)
                    sequence = frame.sequence
                    await send(frame.message)
        except HubStopped:
            pass
        finally:
            gone.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await gone
        with contextlib.suppress(Exception):
            await send({"type": "http.response.body", "body": b"", "more_body": False})


def video_response(hub: StreamHub) -> Response:
    return MjpegResponse(hub)
