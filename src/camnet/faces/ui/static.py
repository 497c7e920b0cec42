"""The dashboard's files: ``/`` (the page) and ``/ui/static/{name}`` (its scripts,
styles and icon), read from the package (``faces/ui/static``; package data, so an
installed camnet serves them with no build step and nothing fetched from elsewhere).

Both routes are open: the files hold no data and no secret (everything a page shows
comes from the authenticated APIs), and the sign-in page has to load before anybody
has signed in. Only files that exist in that folder, by plain name, are served.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.ui.headers import with_security

MEDIA_TYPES: Final = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
CACHE: Final = {"Cache-Control": "no-cache"}


def _load() -> dict[str, bytes]:
    folder = resources.files("camnet.faces.ui") / "static"
    files: dict[str, bytes] = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if item.is_file() and suffix in MEDIA_TYPES:
            files[item.name] = item.read_bytes()
    return files


def static_routes() -> list[Route]:
    files = _load()

    def answer(name: str) -> Response:
        body = files.get(name)
        if body is None:
            return Response(
                "not found", status_code=404, headers=with_security(), media_type="text/plain"
            )
        media_type = MEDIA_TYPES["." + name.rsplit(".", 1)[-1]]
        return Response(body, headers=with_security(CACHE), media_type=media_type)

    async def index(_request: Request) -> Response:
        return answer("index.html")

    async def static(request: Request) -> Response:
        return answer(str(request.path_params["name"]))

    return [
        Route("/", index, methods=["GET"], name="ui_index"),
        Route("/ui/static/{name}", static, methods=["GET"], name="ui_static"),
    ]
