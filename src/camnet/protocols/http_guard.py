"""Connection-level limits of camnet's HTTP listeners (issue 17, item 5).

What uvicorn does not bound by itself, bounded below the ASGI application, where a
request has no route yet:

- **header size**: the bytes of a request head (request line and headers) are counted
  as they arrive; past ``max_header_bytes`` the answer is 431 and the connection closes,
  so a never-ending header costs at most that much memory (httptools would buffer it);
- **header time**: a request head must be complete within ``header_timeout`` seconds of
  the connection's start or of the previous response's end; otherwise 408 (or, for a
  connection that never sent a byte, a plain close) — an idle socket cannot hold a file
  handle for ever;
- **connections**: at most ``max_connections`` open HTTP connections per listener set,
  and ``max_connections_per_address`` from one address; one more is answered 503 (total)
  or 429 (per address) with ``Retry-After: 1`` and closed at once.

Idle keep-alive connections are closed by uvicorn's own ``timeout_keep_alive`` (the
``http_idle_timeout`` setting), uncounted: that is ordinary housekeeping, not a refusal.
Every refusal above is counted in ``camnet_limit_refusals_total`` under its label.

The protocol is uvicorn's httptools protocol (what uvicorn picks when httptools is
installed, as ``uvicorn[standard]`` does) with the counting added; WebSocket upgrades
keep their address counted until the WebSocket closes.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

HEADER_END: Final = b"\r\n\r\n"
LIMIT_LABELS: Final = (
    "header_bytes",
    "header_timeout",
    "idle_timeout",
    "connections_per_address",
    "connections_total",
)


def plain_response(status: int, reason: str, message: str, retry_after: int | None = None) -> bytes:
    """A complete HTTP/1.1 answer that closes the connection (no route, no dialect yet)."""
    body = (message + "\n").encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "content-type: text/plain; charset=utf-8",
        f"content-length: {len(body)}",
        "connection: close",
    ]
    if retry_after is not None:
        head.append(f"retry-after: {retry_after}")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass
class HttpGuard:
    """The limits and the counts, shared by every listener of a node (event loop only)."""

    max_header_bytes: int = 16384
    header_timeout: float = 10.0
    max_connections: int = 10000
    max_connections_per_address: int = 1000
    on_refusal: Callable[[str], None] | None = None
    open: Counter[str] = field(default_factory=Counter)

    @property
    def total(self) -> int:
        return sum(self.open.values())

    def admit(self, address: str) -> bytes | None:
        """Count a new connection from ``address``; the refusal to send instead, if any."""
        if self.total >= self.max_connections:
            self.refused("connections_total")
            return plain_response(
                503, "Service Unavailable", "camnet has its maximum of connections open", 1
            )
        if self.open[address] >= self.max_connections_per_address:
            self.refused("connections_per_address")
            return plain_response(
                429, "Too Many Requests", "too many connections from your address", 1
            )
        self.open[address] += 1
        return None

    def leave(self, address: str) -> None:
        self.open[address] -= 1
        if self.open[address] <= 0:
            del self.open[address]

    def refused(self, limit: str) -> None:
        if self.on_refusal is not None:
            self.on_refusal(limit)


class GuardedHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with ``HttpGuard``'s limits; see the module."""

    guard: HttpGuard = HttpGuard()
    """Set per listener set by ``guarded_protocol``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._address: str | None = None
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""
        self._served = 0
        self._header_timer: asyncio.TimerHandle | None = None

    # -- connections -----------------------------------------------------------------

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        address = self.client[0] if self.client else "unknown"
        refusal = self.guard.admit(address)
        if refusal is not None:
            transport.write(refusal)
            transport.close()
            return
        self._address = address
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        self._release()
        super().connection_lost(exc)

    def _release(self) -> None:
        if self._address is not None:
            self.guard.leave(self._address)
            self._address = None

    def handle_websocket_upgrade(self) -> None:
        """The WebSocket protocol takes the transport over: it releases the address."""
        self._disarm()
        address, self._address = self._address, None
        super().handle_websocket_upgrade()
        socket_protocol = self.transport.get_protocol()
        lost = socket_protocol.connection_lost
        guard = self.guard

        def released(exc: Exception | None) -> None:
            if address is not None:
                guard.leave(address)
            lost(exc)

        socket_protocol.connection_lost = released  # type: ignore[method-assign]

    # -- header size -----------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._in_head and self._address is not None:
            window = self._tail + data
            end = window.find(HEADER_END)
            self._head_bytes += len(data) if end < 0 else max(0, end + 4 - len(self._tail))
            self._tail = window[-3:]
            if self._head_bytes > self.guard.max_header_bytes:
                self._refuse(
                    "header_bytes",
                    plain_response(
                        431,
                        "Request Header Fields Too Large",
                        f"request heads are limited to {self.guard.max_header_bytes} bytes",
                    ),
                )
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._tail = b""
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        self._served += 1
        super().on_response_complete()
        if self._in_head and not self.transport.is_closing():
            self._arm()

    # -- header time -----------------------------------------------------------------

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self.guard.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing() or not self._in_head:
            return
        if self._head_bytes:
            message = f"the request head was not complete within {self.guard.header_timeout:g} s"
            self._refuse("header_timeout", plain_response(408, "Request Timeout", message))
        elif self._served:
            self.transport.close()  # an idle keep-alive connection: housekeeping
        else:
            self.guard.refused("idle_timeout")
            self.transport.close()

    def _refuse(self, limit: str, answer: bytes) -> None:
        self.guard.refused(limit)
        self._disarm()
        self.transport.write(answer)
        self.transport.close()


def guarded_protocol(guard: HttpGuard) -> type[GuardedHttpProtocol]:
    """The protocol class for uvicorn's ``http=`` with ``guard``'s limits."""
    return type("GuardedHttp", (GuardedHttpProtocol,), {"guard": guard})
