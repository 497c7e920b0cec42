"""``/cameras/{mxid}/streams/{stream}/video``: a stream's live MJPEG, from its hub.

The same fan-out as ``/camera.mjpeg``: each viewer awaits "a frame newer than mine"
and sends the frame's prebuilt multipart part as it is; a slow viewer skips frames.
The response ends when the client goes, the stream is deactivated or the node stops.
"""

from __future__ import annotations

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from camnet.media import mjpeg
from camnet.media.hub import StreamHub
from camnet.media.viewing import send_frames

NO_STORE = "no-store, no-cache, must-revalidate"


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
        await send_frames(self._hub, receive, send)


def video_response(hub: StreamHub) -> Response:
    return MjpegResponse(hub)
