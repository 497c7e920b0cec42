"""``/docs`` without the internet: the Swagger UI page with its files served by camnet.

FastAPI's default page loads Swagger UI from a CDN, so on a camera network without
internet access (the usual case) ``/docs`` stays blank. The ``swagger-ui-bundle`` package
ships Swagger UI's distribution files; camnet serves the few the page needs under
``/docs/assets/`` and points the page at them. The page, its OAuth2 redirect and the
files are open, like ``/openapi.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route
from swagger_ui_bundle import swagger_ui_path

ASSETS: Final = "/docs/assets"
FILES: Final = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}
"""The files the page loads; nothing else of the distribution is reachable."""
FOLDER: Final = Path(swagger_ui_path)


def docs_routes(title: str, openapi_url: str = "/openapi.json") -> list[Route]:
    """The routes ``/docs``, ``/docs/oauth2-redirect`` and ``/docs/assets/{name}``."""
    redirect = "/docs/oauth2-redirect"

    async def page(_request: Request) -> Response:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{title} - Swagger UI",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
            oauth2_redirect_url=redirect,
        )

    async def oauth2_redirect(_request: Request) -> Response:
        return get_swagger_ui_oauth2_redirect_html()

    async def asset(request: Request) -> Response:
        name = request.path_params["name"]
        media_type = FILES.get(name)
        if media_type is None:
            return PlainTextResponse("no such file", status_code=404)
        return FileResponse(
            FOLDER / name, media_type=media_type, headers={"Cache-Control": "max-age=86400"}
        )

    return [
        Route("/docs", page, methods=["GET"], name="swagger_ui_html"),
        Route(redirect, oauth2_redirect, methods=["GET"], name="swagger_ui_redirect"),
        Route(f"{ASSETS}/{{name}}", asset, methods=["GET"], name="swagger_ui_asset"),
    ]
