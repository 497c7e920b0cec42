"""The dashboard's cookie session, as the policy point sees it (no I/O here).

A browser signed in to the dashboard holds one HttpOnly cookie, ``camnet_session``,
whose value is an ordinary opaque access token (the same kind ``/pauth/token`` issues),
so revocation, expiry and permissions work exactly as for a bearer token. A cookie is
sent by the browser on its own, so a request carrying only the cookie is accepted
when it cannot have been forged by another site:

- a state-changing request (anything but GET, HEAD, OPTIONS) must carry the header
  ``X-Camnet-CSRF`` with the session's CSRF value (an HMAC of the token, which the
  dashboard reads from ``GET /ui/session`` and keeps in memory only; another site can
  neither read it nor set a custom header on a cross-site request without CORS);
- a WebSocket upgrade (browsers cannot add headers to it) must carry an ``Origin`` of
  this server;
- any request that carries an ``Origin`` must carry this server's.

``SameSite=Strict`` on the cookie is the first line; these checks are the second.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

COOKIE_NAME: Final = "camnet_session"
CSRF_HEADER: Final = "x-camnet-csrf"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS"})
WEBSOCKET: Final = "WEBSOCKET"
"""The pseudo-method of a WebSocket upgrade."""


def csrf_value(token: str) -> str:
    """The CSRF value of a session: derived from its secret token, useless without it."""
    return hmac.new(token.encode(), b"camnet-dashboard-csrf", hashlib.sha256).hexdigest()


def cookie_token(cookie_header: str | None) -> str | None:
    """The session token in a ``Cookie`` header, or None."""
    if not cookie_header:
        return None
    for part in cookie_header.split(";"):
        name, _, value = part.strip().partition("=")
        if name == COOKIE_NAME and value:
            return value.strip('"')
    return None


def same_origin(origin: str, host: str | None) -> bool:
    """Whether ``Origin`` names the host the request was sent to."""
    if not host:
        return False
    parts = urlsplit(origin)
    return parts.scheme in ("http", "https") and parts.netloc.lower() == host.lower()


@dataclass(frozen=True, slots=True)
class CookieSession:
    """A session cookie presented with a request, and whether the request may use it."""

    token: str
    trusted: bool


def cookie_session(headers: Mapping[str, str], method: str) -> CookieSession | None:
    """Read the cookie and decide whether this request may be authenticated by it.

    ``headers`` maps lower-case names to values; ``method`` is the HTTP method, or
    ``WEBSOCKET`` for an upgrade."""
    token = cookie_token(headers.get("cookie"))
    if token is None:
        return None
    origin = headers.get("origin")
    host = headers.get("host")
    if origin is not None and not same_origin(origin, host):
        return CookieSession(token, False)
    if method == WEBSOCKET:
        return CookieSession(token, origin is not None)
    if method.upper() in SAFE_METHODS:
        return CookieSession(token, True)
    presented = headers.get(CSRF_HEADER, "")
    return CookieSession(token, hmac.compare_digest(presented, csrf_value(token)))
