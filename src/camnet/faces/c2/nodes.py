"""The c2 API of another node's control unit: ``/nodes/{machine}/api``.

The same API as ``/api`` (HTTP ``GET``/``POST`` and the WebSocket), for the control unit
of node ``machine``, which this node reaches over the bus
(``camnet.network.remote_nodes``): reads and writes travel to that node and run there;
the WebSocket sends the mirrored state on connect, then every Update of that control
unit, which this node follows while a client watches (and reads again after an outage,
pushing what changed). ``/nodes/{own machine}/api`` is this node's own ``/api``,
so a client may address every node of a network the same way. Credentials, permissions
and error bodies are this node's and this dialect's; a node that does not answer makes a
503 (``unavailable``), at once when presence already knows it offline. A WebSocket to the
control unit of an offline node gets one status message, ``{"status": {"online": false,
"machine", "device", "message"}}``, then a close with 1013 (try again later): never the
mirror's last values as if they were live. A request may carry an ``Idempotency-Key``
header (1–128 of ``A-Z a-z 0-9 . _ : -``): a retry with the same key and body, after a
503 say, is answered with the first request's answer if that one was applied after all,
and never applied twice. Live images (``/camera.jpeg``,
``/camera.mjpeg``) of another node are not served here: ask that node.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Send
from starlette.websockets import WebSocket

from camnet.bus.base import Bus
from camnet.faces.c2.context import C2Context, authenticate, query_pairs
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.fanout import StateFanout
from camnet.faces.c2.http import serve_api
from camnet.faces.c2.websocket import RawSocketApp, serve_socket
from camnet.identity.browser import WEBSOCKET
from camnet.network.remote import REQUEST_KEY, RemoteDevice
from camnet.network.remote_nodes import RemoteNodes

PREFIX = "/nodes/{machine}"
KEY_PATTERN: Final = re.compile(r"[A-Za-z0-9._:-]{1,128}")
"""What an ``Idempotency-Key`` header may hold."""
TRY_AGAIN_LATER: Final = 1013
"""The WebSocket close code for a control unit whose node is offline."""


class NodeContexts:
    """The c2 context of each node's control unit, made once (with its WebSocket fan-out)."""

    def __init__(self, local: C2Context, machine: str, remote: RemoteNodes, bus: Bus) -> None:
        self._local = local
        self._machine = machine
        self._remote = remote
        self._bus = bus
        self._contexts: dict[str, C2Context] = {}

    def of(self, machine: str) -> C2Context:
        if machine == self._machine:
            return self._local
        context = self._contexts.get(machine)
        if context is not None:
            return context
        device = self._remote.control_unit(machine)
        if device is None:
            raise C2Error(404, "not_found", f"no control unit of a node {machine!r} is known here")
        fanout = StateFanout(self._bus, device.name, watch=device.watch)
        context = self._contexts[machine] = replace(self._local, device=device, fanout=fanout)
        return context

    def remote_device(self, machine: str) -> RemoteDevice | None:
        """The control unit of another node (None for this node's own)."""
        return None if machine == self._machine else self._remote.control_unit(machine)

    def stop(self) -> None:
        for context in self._contexts.values():
            context.fanout.stop()
        self._contexts.clear()


def node_c2_routes(contexts: NodeContexts) -> list[Route | WebSocketRoute]:
    async def api(request: Request) -> Response:
        try:
            context = contexts.of(request.path_params["machine"])
            key = _idempotency_key(request)
        except C2Error as exc:
            return exc.response()
        token = REQUEST_KEY.set(key)
        try:
            return await serve_api(context, request)
        finally:
            REQUEST_KEY.reset(token)

    async def api_socket(websocket: WebSocket, send: Send) -> None:
        try:
            context = contexts.of(websocket.path_params["machine"])
        except C2Error as exc:
            await websocket.send_denial_response(exc.response())
            return
        device = contexts.remote_device(websocket.path_params["machine"])
        if device is None:
            await serve_socket(context, websocket, send)
            return
        if not device.online:
            await _refuse_offline(context, websocket, device)
            return
        # Once the client is authenticated, follow the device before its first state and
        # read it if no one watched it: the first message is current, not the last heard.
        held: list[Callable[[], None]] = []

        async def prepare() -> None:
            held.append(device.watch(lambda values: None))
            await device.ready()

        try:
            await serve_socket(context, websocket, send, prepare)
        finally:
            for release in held:
                release()

    return [
        Route(f"{PREFIX}/api", api, methods=["GET", "POST"], name="c2_node_api"),
        WebSocketRoute(f"{PREFIX}/api", RawSocketApp(api_socket), name="c2_node_api_socket"),
    ]


async def _refuse_offline(context: C2Context, websocket: WebSocket, device: RemoteDevice) -> None:
    """The offline status (to an authenticated client only), then close 1013."""
    try:
        await authenticate(
            context, query_pairs(websocket.scope["query_string"]), websocket.headers, WEBSOCKET
        )
    except C2Error as exc:
        await websocket.send_denial_response(exc.response())
        return
    await websocket.accept()
    status = {
        "online": False,
        "machine": device.machine,
        "device": device.name,
        "message": f"node {device.machine} is offline: its heartbeats have stopped; "
        "connect again when it is back",
    }
    await websocket.send_text(json.dumps({"status": status}, separators=(",", ":")))
    await websocket.close(TRY_AGAIN_LATER, f"node {device.machine} is offline")


def _idempotency_key(request: Request) -> str:
    """The client's ``Idempotency-Key`` (empty when none); 400 when it is malformed."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return ""
    if not KEY_PATTERN.fullmatch(key):
        raise C2Error(
            400,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1 to 128 characters of A-Z, a-z, 0-9, '.', '_', ':', '-'",
        )
    return key
