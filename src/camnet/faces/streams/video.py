"""``/cameras/{mxid}/streams/{stream}/video``: a stream's live MJPEG, from its hub.

The same fan-out as ``/camera.mjpeg``: each viewer awaits "a frame newer than mine"
and sends the frame's prebuilt multipart part as it is; a slow viewer skips frames.
The response ends when the client goes, the stream is deactivated or the node stops.

The viewer caps of ``/camera.mjpeg`` apply here too (one ``ViewerLimits`` for the node,
keyed ``{mxid}/{stream}``): a viewer is counted from the moment its response starts to
the moment it ends, so a refused or finished viewer never holds a slot.
"""

from __future__ import annotations

import asyncio

from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from camnet.identity.gate import live_session
from camnet.media import mjpeg
from camnet.media.hub import StreamHub
from camnet.media.viewing import send_frames
from camnet.ops.limits import LimitReached, ViewerLimits

NO_STORE = "no-store, no-cache, must-revalidate"


class MjpegResponse(Response):
    media_type = mjpeg.CONTENT_TYPE

    def __init__(
        self, hub: StreamHub, limits: ViewerLimits | None, key: str, token: str | None
    ) -> None:
        super().__init__(media_type=mjpeg.CONTENT_TYPE)
        self._hub = hub
        self._limits = limits
        self._key = key
        self._token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with live_session(scope) as ended:
            await self._watch(scope, receive, send, ended)

    async def _watch(
        self, scope: Scope, receive: Receive, send: Send, ended: asyncio.Event | None
    ) -> None:
        if self._limits is None:
            await self._serve(receive, send, ended)
            return
        try:
            watching = self._limits.watching(self._key, self._token)
            watching.__enter__()
        except LimitReached as refused:
            # The c2 face's statuses for the same caps: the stream is full (503), these
            # credentials watch too much (429); both in this dialect's {"detail"} body.
            status = 503 if refused.limit == "mjpeg_viewers_per_stream" else 429
            refusal = JSONResponse(
                {"detail": refused.message}, status_code=status, headers={"Retry-After": "5"}
            )
            await refusal(scope, receive, send)
            return
        try:
            await self._serve(receive, send, ended)
        finally:
            watching.__exit__(None, None, None)

    async def _serve(self, receive: Receive, send: Send, ended: asyncio.Event | None) -> None:
        # No Content-Length: the body lasts as long as the viewer watches.
        headers = [
            (b"content-type", mjpeg.CONTENT_TYPE.encode()),
            (b"cache-control", NO_STORE.encode()),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send_frames(self._hub, receive, send, ended)


def video_response(
    hub: StreamHub, limits: ViewerLimits | None = None, key: str = "", token: str | None = None
) -> Response:
    """The live MJPEG of ``hub``; with ``limits``, counted as one viewer of ``key`` (and
    of ``token``, the viewer's credentials) while it runs."""
    return MjpegResponse(hub, limits, key or hub.name, token)
