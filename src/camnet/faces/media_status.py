"""``GET /media/status``: the hubs' counters (frames captured, encodes, consumers).

camnet's own, not part of any vendor dialect: it shows that capture runs only while
something consumes and that each frame is encoded once whatever the number of viewers.
It needs the same credentials as the c2 ``/api``.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from camnet.faces.c2.context import C2Context, authenticate, query_pairs
from camnet.media.service import MediaService


def media_status_route(context: C2Context, media: MediaService) -> Route:
    async def media_status(request: Request) -> Response:
        await authenticate(context, query_pairs(request.scope["query_string"]), request.headers)
        return JSONResponse(media.status(), headers={"Cache-Control": "no-store"})

    return Route("/media/status", media_status, methods=["GET"], name="media_status")
