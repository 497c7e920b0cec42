"""The gate every request passes: closed unless declared open, rate-limited, and shut
(503) in maintenance mode.

Each route of the application may be *declared* with an ``Access``: which service it
belongs to (for rate limits), whether it is open (always, or while a condition holds), and
how to word a refusal (each face answers in its own dialect's error body). A route that
is not declared is closed: a request without valid credentials gets 401 before any route
code runs, so a route added later cannot be left open by accident. WebSocket upgrades
pass the same gate and are refused with an HTTP 401 response before the handshake.

The principal found is left in ``scope["camnet.principal"]`` for the route to authorise
(what the principal may do is the route's question; who it is was answered here).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Final

from starlette.responses import Response
from starlette.routing import Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket

from camnet.identity.browser import COOKIE_NAME, WEBSOCKET, CookieSession, cookie_session
from camnet.identity.live import LiveSessions, Recheck
from camnet.identity.permissions import Principal
from camnet.identity.policy import Policy
from camnet.identity.ratelimit import FixedWindowLimiter
from camnet.identity.throttle import Throttled
from camnet.routing import find_route, route_name
from camnet.web.query import TooManyFields, query_pairs

PRINCIPAL_KEY: Final = "camnet.principal"
LIVE_KEY: Final = "camnet.live"
_BROWSER_HEADERS: Final = frozenset({b"cookie", b"origin", b"host", b"x-camnet-csrf"})


Refusal = Callable[[int, str, str, Mapping[str, str]], Response]
"""Words a refusal in a dialect: (status, short code, message, extra headers)."""


@dataclass(frozen=True)
class Access:
    service: str
    refuse: Refusal
    open: bool = False
    open_when: Callable[[], bool] | None = None
    open_methods: frozenset[str] = frozenset()
    """Methods open on an otherwise closed route (``POST /oauth/token``, not ``GET``)."""
    during_maintenance: bool = False
    """Whether the route still works in maintenance mode (turning it off, logging in)."""
    anonymous: Callable[[str, str | None], Principal | None] | None = None
    """Who a request that presents no credentials at all is, by its source address and
    its ``Origin`` header if a browser sent one (``bus_anonymous_role`` for the bus faces,
    ``streams_anonymous_role`` for the streams face); None: nobody, 401."""
    query_access_token: bool = False
    """Take ``?access_token=`` as a bearer token (RFC 6750 §2.3; the Gateway's clients)."""
    own_refuse: Refusal | None = None
    """How the route's face words a refusal that is not about credentials (a limit such
    as the body size); ``refuse`` when None. The streams face answers credentials in the
    house body but everything else as FastAPI's ``{"detail": …}``."""

    @property
    def limit_refuse(self) -> Refusal:
        return self.own_refuse if self.own_refuse is not None else self.refuse

    def is_open(self, scope: Scope) -> bool:
        if self.open or (self.open_when is not None and self.open_when()):
            return True
        return bool(self.open_methods) and scope.get("method") in self.open_methods


@dataclass
class Maintenance:
    """Maintenance mode: every route not marked ``during_maintenance`` answers 503."""

    active: bool = False
    retry_after: int = 300


@dataclass
class GateConfig:
    policy: Policy
    limiter: FixedWindowLimiter
    default: Access
    declarations: dict[str, Access] = field(default_factory=dict)
    maintenance: Maintenance = field(default_factory=Maintenance)
    live: LiveSessions | None = None
    """Where long-lived sessions register to end with their credentials."""

    def declare(self, route_name: str, access: Access) -> None:
        self.declarations[route_name] = access


def access_of(router: Router, config: GateConfig, scope: Scope) -> Access:
    """The declaration of the route that serves ``scope`` (the default when none does;
    a path served for other methods only counts as that route, for its dialect)."""
    found = find_route(router.routes, scope)
    route = found.full if found.full is not None else found.partial
    return config.declarations.get(route_name(route), config.default)


def principal_of(scope: Scope) -> Principal | None:
    principal: Principal | None = scope.get(PRINCIPAL_KEY)
    return principal


@contextlib.contextmanager
def live_session(scope: Scope) -> Iterator[asyncio.Event | None]:
    """For a long-lived response or WebSocket: an event set when the credentials that
    opened it end (``identity/live.py``); None for a request the gate let through open."""
    watch: tuple[LiveSessions, Principal, Recheck] | None = scope.get(LIVE_KEY)
    if watch is None:
        yield None
        return
    sessions, principal, recheck = watch
    with sessions.watch(principal, recheck) as session:
        yield session.ended


class Gate:
    """Raw ASGI middleware (cheap on the hot path: one route match, one cache lookup)."""

    def __init__(self, app: ASGIApp, router: Router, config: GateConfig) -> None:
        self.app = app
        self.router = router
        self.config = config

    def _access(self, scope: Scope) -> Access:
        return access_of(self.router, self.config, scope)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        access = self._access(scope)
        maintenance = self.config.maintenance
        if maintenance.active and not access.during_maintenance:
            refusal = access.refuse(
                503,
                "maintenance",
                "camnet is offline for maintenance; please try again later",
                {"Retry-After": str(maintenance.retry_after)},
            )
            await _answer(scope, receive, send, refusal)
            return
        if access.is_open(scope):
            await self.app(scope, receive, send)
            return
        try:
            pairs = query_pairs(scope.get("query_string", b""))
        except TooManyFields as exc:
            # A malformed request, whoever sends it: 400 before credentials are looked at.
            refusal = access.limit_refuse(400, "invalid_query", str(exc), {})
            await _answer(scope, receive, send, refusal)
            return
        presented = _presented(scope, access, pairs)
        try:
            principal = await self.config.policy.principal(*presented, address_of(scope))
        except Throttled as refused:
            refusal = access.refuse(
                429, "throttled", refused.message, {"Retry-After": str(refused.retry_after)}
            )
            await _answer(scope, receive, send, refusal)
            return
        anonymous = False
        if principal is None and access.anonymous is not None and not _presents_credentials(scope):
            principal = access.anonymous(address_of(scope) or "", _origin(scope))
            anonymous = principal is not None
        if principal is None:
            refusal = access.refuse(
                401,
                "unauthorized",
                "valid credentials required: a bearer token, an API key, or the c2 query "
                "token or HTTP Basic",
                {"WWW-Authenticate": _challenge(scope)},
            )
            await _answer(scope, receive, send, refusal)
            return
        scope[PRINCIPAL_KEY] = principal
        if self.config.live is not None and not anonymous:
            # The principal without credentials has none to end: it is never rechecked.
            policy = self.config.policy

            async def recheck() -> Principal | None:
                return await policy.principal(*presented, throttled=False)

            scope[LIVE_KEY] = (self.config.live, principal, recheck)
        budget = self.config.limiter.hit((principal.session, access.service), principal.rate_limit)
        if not budget.allowed:
            headers = {k.decode(): v.decode() for k, v in budget.headers()}
            headers["Retry-After"] = str(budget.retry_after)
            refusal = access.refuse(
                429,
                "rate_limited",
                f"more than {budget.limit} requests to {access.service} in a minute; "
                f"try again in {budget.retry_after} s",
                headers,
            )
            await _answer(scope, receive, send, refusal)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        extra = budget.headers()

        async def send_with_budget(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_budget)


Presented = tuple[str | None, str | None, dict[str, str], CookieSession | None]
"""What a request presented, in ``Policy.principal``'s order: Authorization, X-API-Key,
the query's first values, and the dashboard cookie."""


def _presented(scope: Scope, access: Access, pairs: list[tuple[str, str]]) -> Presented:
    authorization = api_key = None
    browser: dict[str, str] = {}
    for key, value in scope["headers"]:
        if key == b"authorization":
            authorization = value.decode("latin-1")
        elif key == b"x-api-key":
            api_key = value.decode("latin-1")
        elif key in _BROWSER_HEADERS:
            browser.setdefault(key.decode("latin-1"), value.decode("latin-1"))
    query: dict[str, str] = {}
    for name, value in pairs:
        query.setdefault(name, value)
    if authorization is None and access.query_access_token and query.get("access_token"):
        authorization = f"Bearer {query['access_token']}"
    method = WEBSOCKET if scope["type"] == "websocket" else str(scope.get("method", "GET"))
    return (authorization, api_key, query, cookie_session(browser, method))


def address_of(scope: Scope) -> str | None:
    """The peer's address, the key of the per-address credential budget."""
    client = scope.get("client")
    return str(client[0]) if client else None


_CREDENTIAL_QUERY: Final = (b"token=", b"access_token=", b"password=", b"user=")


def _presents_credentials(scope: Scope) -> bool:
    """Whether the request carries anything that could be a credential (then it is
    judged by that, never answered as the anonymous principal)."""
    for key, value in scope["headers"]:
        if key in (b"authorization", b"x-api-key"):
            return True
        if key == b"cookie" and COOKIE_NAME.encode() in value:
            return True
    raw = scope.get("query_string", b"")
    return any(part.startswith(_CREDENTIAL_QUERY) for part in raw.split(b"&")) if raw else False


def _origin(scope: Scope) -> str | None:
    for key, value in scope["headers"]:
        if key == b"origin":
            return str(value.decode("latin-1"))
    return None


def _challenge(scope: Scope) -> str:
    """Basic, except for the dashboard's own requests (they carry ``X-Camnet-CSRF``): a
    Basic challenge makes a browser stop a script's request to ask for a password."""
    if any(key == b"x-camnet-csrf" for key, _ in scope["headers"]):
        return f'Cookie realm="camnet", cookie-name="{COOKIE_NAME}"'
    return 'Basic realm="camnet", charset="UTF-8"'


async def _answer(scope: Scope, receive: Receive, send: Send, response: Response) -> None:
    if scope["type"] == "websocket":
        await WebSocket(scope, receive, send).send_denial_response(response)
        return
    await response(scope, receive, send)
