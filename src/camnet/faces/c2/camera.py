"""``/camera.jpeg`` and ``/camera.mjpeg``: the live stream, as the c2 seed's "Camera
stream" section describes it, authenticated exactly like ``/api``.

``/camera.mjpeg`` is a raw ASGI app: each viewer is the request's own task, which awaits
"a frame newer than mine" from the live hub and sends that frame's prebuilt part bytes
(delimiter, headers, JPEG) in one ``send``. Nothing is encoded, copied or queued per
viewer; a viewer whose connection is slow waits in its send (uvicorn's flow control) and
then gets the newest frame, skipping the ones it missed. With ``mjpgStreamIsOpen`` on,
the stream needs no credentials (the seed: "enable or disable the stream for clients
without connection token"); ``/camera.jpeg`` always does.
"""

from __future__ import annotations

import asyncio

from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from camnet.faces.c2.context import C2Context, authenticate, query_pairs
from camnet.faces.c2.errors import C2Error
from camnet.identity.gate import live_session, principal_of
from camnet.media import mjpeg
from camnet.media.hub import StreamHub
from camnet.media.viewing import send_frames
from camnet.ops.limits import LimitReached

NO_STORE = "no-store, no-cache, must-revalidate"


def camera_jpeg_route(context: C2Context, hub: StreamHub) -> Route:
    async def camera_jpeg(request: Request) -> Response:
        await authenticate(context, query_pairs(request.scope["query_string"]), request.headers)
        try:
            frame = await asyncio.wait_for(hub.snapshot(), context.snapshot_timeout)
        except TimeoutError:
            raise C2Error(
                504,
                "camera_timeout",
                f"the camera delivered no frame within {context.snapshot_timeout:g} s",
            ) from None
        return Response(
            frame.jpeg,
            media_type="image/jpeg",
            headers={"Cache-Control": NO_STORE},
        )

    return Route("/camera.jpeg", camera_jpeg, methods=["GET"], name="c2_camera_jpeg")


def camera_mjpeg_route(context: C2Context, hub: StreamHub) -> Route:
    return Route(
        "/camera.mjpeg", MjpegStream(context, hub), methods=["GET"], name="c2_camera_mjpeg"
    )


class MjpegStream:
    """The ASGI app of ``/camera.mjpeg`` (a class, so Starlette passes it the raw
    ``receive``/``send`` and adds no per-message work of its own)."""

    def __init__(self, context: C2Context, hub: StreamHub) -> None:
        self._context = context
        self._hub = hub

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        principal = principal_of(scope)
        if not self._context.device.state["mjpgStreamIsOpen"]:
            principal = await authenticate(
                self._context, query_pairs(scope["query_string"]), Headers(scope=scope)
            )
        viewers = self._context.viewers
        if viewers is None:
            await self._serve(scope, receive, send)
            return
        token = (principal.session or principal.user) if principal is not None else None
        try:
            watching = viewers.watching(self._hub.name, token)
            watching.__enter__()
        except LimitReached as refused:
            status, code = (
                (503, "stream_full")
                if refused.limit == "mjpeg_viewers_per_stream"
                else (429, "too_many_viewers")
            )
            raise C2Error(status, code, refused.message, headers={"Retry-After": "5"}) from None
        try:
            await self._serve(scope, receive, send)
        finally:
            watching.__exit__(None, None, None)

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", mjpeg.CONTENT_TYPE.encode()),
                    (b"cache-control", NO_STORE.encode()),
                ],
            }
        )
        if scope["method"] == "HEAD":
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            return
        with live_session(scope) as ended:
            await send_frames(self._hub, receive, send, ended)
