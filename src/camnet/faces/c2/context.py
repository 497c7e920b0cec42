"""What the c2 face needs from the node, as one typed object."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from camnet.devices.surface import DeviceSurface
from camnet.faces.c2.errors import C2Error, unauthorized
from camnet.faces.c2.fanout import StateFanout
from camnet.identity.authenticator import Authenticator
from camnet.identity.browser import cookie_session
from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal
from camnet.identity.policy import Policy
from camnet.identity.throttle import Throttled
from camnet.web import query as web_query

if TYPE_CHECKING:
    from camnet.ops.limits import ViewerLimits

MAX_QUERY_FIELDS = web_query.MAX_QUERY_FIELDS


@dataclass(frozen=True, slots=True)
class C2Context:
    device: DeviceSurface
    authenticator: Authenticator
    fanout: StateFanout
    max_body_bytes: int
    policy: Policy
    viewers: ViewerLimits | None = None
    """Caps on MJPEG viewers per stream and per token (issue 11); None: no caps."""
    snapshot_timeout: float = 10.0
    """Seconds ``/camera.jpeg`` waits for a frame (a hanging camera answers 504)."""
    ws_max_message_bytes: int = 1 << 20
    """The largest WebSocket message handled; a larger one gets the error message and the
    close code 1009 (the HTTP server's own ceiling is higher, see ``ops.limits``)."""
    on_refusal: Callable[[str], None] | None = None
    """Told the limit's name whenever one refuses something (the metrics count it)."""


def query_pairs(query_string: bytes) -> list[tuple[str, str]]:
    try:
        return web_query.query_pairs(query_string)
    except web_query.TooManyFields as exc:
        raise C2Error(400, "invalid_query", str(exc)) from None


async def authenticate(
    context: C2Context, pairs: list[tuple[str, str]], headers: Any, method: str = "GET"
) -> Principal:
    """Ask identity who this is; every c2 route goes through here. 401 when nobody, 404
    for a principal of another account (this node's control unit is not theirs).
    ``method`` (``WEBSOCKET`` for an upgrade) decides the dashboard cookie's CSRF check."""
    first: dict[str, str] = {}
    for key, value in pairs:
        first.setdefault(key, value)
    try:
        principal = await context.policy.principal(
            headers.get("authorization"),
            headers.get("x-api-key"),
            first,
            cookie_session(headers, method),
        )
    except Throttled as refused:
        raise C2Error(
            429, "throttled", refused.message, headers={"Retry-After": str(refused.retry_after)}
        ) from None
    if principal is None:
        raise unauthorized()
    if not principal.permissions.has_tenant(DEFAULT_ACCOUNT):
        raise C2Error(404, "not_found", "there is no control unit here for this account")
    return principal
