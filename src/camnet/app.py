"""Composition root: Settings → Node → the faces mounted on one ASGI application."""

from __future__ import annotations

import gc
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse, Response

from camnet import __version__
from camnet.clock import Clock, SystemClock
from camnet.faces.c2.camera import camera_jpeg_route, camera_mjpeg_route
from camnet.faces.c2.context import C2Context
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.http import c2_http_route
from camnet.faces.c2.websocket import c2_websocket_route
from camnet.faces.media_status import media_status_route
from camnet.identity.bootstrap import InitialCredentials
from camnet.node import Node
from camnet.settings import Settings

C2_PATHS = ("/api", "/camera.jpeg", "/camera.mjpeg")


def print_initial_credentials(credentials: InitialCredentials) -> None:
    """Show first-start secrets once, on stdout (never in the logs)."""
    if not credentials.any:
        return
    lines = ["", "camnet created its users. These secrets are shown once and stored hashed:"]
    if credentials.admin_password is not None:
        lines.append(f"  admin password : {credentials.admin_password}")
    if credentials.api_token is not None:
        lines.append(f"  API-User token : {credentials.api_token}")
    lines.append("Change the API-User token later with: camnet token rotate")
    lines.append("")
    print("\n".join(lines), file=sys.stdout, flush=True)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    listen_urls: tuple[str, ...] = (),
    on_credentials: Callable[[InitialCredentials], None] = print_initial_credentials,
    on_ready: Callable[[], None] | None = None,
) -> FastAPI:
    node = Node(settings, clock or SystemClock(), listen_urls)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        credentials = await node.start()
        # Everything allocated so far lives as long as the process: keep it out of the
        # cyclic collector's full passes, which otherwise stall the loop now and then.
        gc.collect()
        gc.freeze()
        on_credentials(credentials)
        if on_ready is not None:
            on_ready()
        try:
            yield
        finally:
            await node.stop()

    app = FastAPI(
        title="camnet", version=__version__, lifespan=lifespan, docs_url="/docs", redoc_url=None
    )
    c2 = C2Context(
        device=node.control_unit,
        authenticator=node.authenticator,
        fanout=node.c2_fanout,
        max_body_bytes=settings.max_body_bytes,
    )
    app.router.routes.extend([c2_http_route(c2), c2_websocket_route(c2)])
    app.router.routes.extend(
        [
            camera_jpeg_route(c2, node.media.live),
            camera_mjpeg_route(c2, node.media.live),
            media_status_route(c2, node.media),
        ]
    )

    @app.exception_handler(C2Error)
    async def c2_error(_request: Request, exc: C2Error) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if request.url.path in C2_PATHS:
            code = {405: "method_not_allowed", 404: "not_found"}.get(exc.status_code, "error")
            error = C2Error(exc.status_code, code, str(exc.detail), headers=headers)
            return error.response()
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)

    return app
