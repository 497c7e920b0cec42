"""Cross-origin requests (CORS) from the web applications an operator names, such as
Robopipe Studio, which runs on its own origin and calls the streams API from the browser.

Off unless ``cors_origins`` names origins. Starlette's ``CORSMiddleware`` sits outside
the gate (``app.py``), so a preflight ``OPTIONS`` (which a browser sends without
credentials) is answered before the gate could refuse it with 401, and every answer to
an allowed origin, refusals included, carries ``Access-Control-Allow-Origin`` so the
application can read why it was refused. The preflight only says what the browser may
send; the request itself still passes the gate with its own credentials.

Credentials (``Authorization``, API keys) are allowed for named origins, never with
``*``: an origin list containing ``*`` allows any origin without credentials. The
dashboard's session cookie is of no use from another origin in any case: it is
``SameSite=Strict`` and the policy point refuses a cookie whose request carries another
``Origin`` (``identity/browser.py``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final
from urllib.parse import urlsplit

ANY: Final = "*"
METHODS: Final = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
HEADERS: Final = ("Authorization", "Content-Type", "X-API-Key", "Accept")
EXPOSED: Final = (
    "Retry-After",
    "WWW-Authenticate",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
)
MAX_AGE: Final = 600


def check_origin(origin: str) -> str:
    """``*`` or ``scheme://host[:port]`` exactly as a browser sends it in ``Origin``
    (no path, no trailing slash); raises ``ValueError`` otherwise."""
    if origin == ANY:
        return origin
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{origin!r} is no origin: expected http(s)://host[:port] or *")
    if parts.path or parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError(f"{origin!r} is no origin: no path, query or credentials (no '/')")
    return origin


def cors_options(origins: Sequence[str]) -> dict[str, Any]:
    """The keyword arguments of ``CORSMiddleware`` for these origins."""
    return {
        "allow_origins": list(origins),
        "allow_methods": list(METHODS),
        "allow_headers": list(HEADERS),
        "allow_credentials": ANY not in origins,
        "expose_headers": list(EXPOSED),
        "max_age": MAX_AGE,
    }
