"""Security headers of every dashboard response.

The pages load only their own scripts, styles and images (``'self'``; live views and
recordings are same-origin), may not be framed by any page (``frame-ancestors
'none'``, and ``X-Frame-Options`` for older browsers), and the browser may not guess
content types. ``connect-src`` allows the same origin's WebSocket (``ws:``/``wss:`` to
'self' is implied in current browsers, stated here for older ones).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self' ws: wss:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY: Final = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
NO_STORE: Final = {"Cache-Control": "no-store"}


def with_security(headers: Mapping[str, str] | None = None) -> dict[str, str]:
    return {**SECURITY, **(headers or {})}
