"""Who may connect to the ZeroMQ hub: a ZAP handler (ZeroMQ's RFC 27) in the hub's context.

ZeroMQ clients of the network vendor present no credentials, so the hub answers them as
the node's configured principal for requests without credentials
(``identity.anonymous``): off by default, and then every connection is refused; when on,
only peers from ``bus_anonymous_networks`` (loopback by default) may connect, to either
port. Each refusal is logged by ``AnonymousAccess`` with the setting that would admit it.

libzmq asks the handler about every new connection of a socket whose ``ZAP_DOMAIN`` is
set (the NULL mechanism included), before a single message is taken from that peer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

import zmq
import zmq.asyncio

from camnet.identity.anonymous import AnonymousAccess

log = logging.getLogger(__name__)

ZAP_ENDPOINT: Final = "inproc://zeromq.zap.01"
DOMAIN: Final = b"camnet-hub"
FACE: Final = "ZeroMQ hub"


class ZapHandler:
    """Answers libzmq's ZAP requests for the hub's sockets (one per context)."""

    def __init__(self, context: zmq.asyncio.Context, access: AnonymousAccess) -> None:
        self._access = access
        self._socket = context.socket(zmq.REP)
        self._socket.setsockopt(zmq.LINGER, 0)
        self._socket.bind(ZAP_ENDPOINT)
        self._task = asyncio.create_task(self._serve(), name="zmq-hub-zap")
        self.refused = 0

    @staticmethod
    def protect(socket: zmq.asyncio.Socket) -> None:
        """Make libzmq ask this handler before it accepts a peer of ``socket``."""
        socket.setsockopt(zmq.ZAP_DOMAIN, DOMAIN)

    async def _serve(self) -> None:
        while True:
            frames = await self._socket.recv_multipart()
            await self._socket.send_multipart(self.answer(frames))

    def answer(self, frames: list[bytes]) -> list[bytes]:
        """The ZAP reply to one request (RFC 27: version, id, domain, address, …)."""
        if len(frames) < 6:
            return [b"1.0", frames[1] if len(frames) > 1 else b"", b"500", b"bad request", b"", b""]
        version, request_id, _domain, address = frames[:4]
        principal = self._access.principal_for(address.decode("latin-1"), FACE)
        if principal is None:
            self.refused += 1
            return [version, request_id, b"400", b"refused", b"", b""]
        return [version, request_id, b"200", b"OK", principal.user.encode(), b""]

    async def stop(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._socket.close()
