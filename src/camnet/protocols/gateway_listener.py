"""The Gateway's own port (16208 by default, as the vendor's Gateway), beside the main one.

A uvicorn server in the node's event loop that serves only ``/gateway/…`` of the one
application, so the Gateway's requests pass the same gate (authentication, rate limits,
maintenance) as on the main port; every other path answers 404 in the house body. When
the port is taken (another camnet on this machine), the listener stays off and says why
in the log; the rest of the node runs. ``gateway_port`` 0 takes any free port (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Final

import uvicorn
from uvicorn.lifespan.off import LifespanOff

from camnet.faces.identity.errors import ApiError
from camnet.protocols.http_guard import HttpGuard, guarded_protocol
from camnet.protocols.listeners import App, Receive, Scope, Send, bind, reason_of, shown_host

log = logging.getLogger(__name__)

PREFIX: Final = "/gateway/"


class _GatewayOnly:
    def __init__(self, app: App) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not str(scope.get("path", "")).startswith(PREFIX):
            response = ApiError(404, "this port serves the Gateway only: /gateway/…").response()
            await response(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008})
            return
        await self._app(scope, receive, send)


class GatewayListener:
    def __init__(self, host: str, port: int, enabled: bool = True) -> None:
        self._host = host
        self._port = port
        self._enabled = enabled
        self._app: App | None = None
        self._guard: HttpGuard | None = None
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None
        self._sock: Any = None
        self.port = 0
        self.status: dict[str, object] = {"state": "stopped"}

    def attach(self, app: App, guard: HttpGuard | None = None) -> None:
        """The application, and the connection limits shared with the other listeners."""
        self._app = app
        self._guard = guard

    @property
    def url(self) -> str | None:
        """Where the Gateway listens, or None when this listener is off."""
        if not self.port:
            return None
        return f"http://{shown_host(self._host)}:{self.port}"

    async def start(self) -> None:
        if not self._enabled or self._app is None:
            self.status = {"state": "off", "reason": "not configured"}
            return
        try:
            sock = bind(self._host, self._port)
        except OSError as exc:
            reason = f"port {self._port}: {reason_of(exc)}"
            self.status = {"state": "error", "reason": reason}
            log.warning("Gateway listener off: %s", reason)
            return
        options: dict[str, Any] = {}
        if self._guard is not None:
            options["http"] = guarded_protocol(self._guard)
        config = uvicorn.Config(
            _GatewayOnly(self._app), lifespan="off", log_config=None, access_log=False, **options
        )
        config.load()
        server = uvicorn.Server(config)
        server.lifespan = LifespanOff(config)
        await server.startup(sockets=[sock])
        self._server, self._sock = server, sock
        self.port = sock.getsockname()[1]
        self._task = asyncio.create_task(server.main_loop(), name="camnet-gateway")
        self.status = {"state": "listening", "url": self.url}
        log.info("Gateway listening on %s", self.url)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await server.shutdown(sockets=[self._sock])
        self.port = 0
        self.status = {"state": "stopped"}
