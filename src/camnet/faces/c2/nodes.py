"""The c2 API of another node's control unit: ``/nodes/{machine}/api``.

The same API as ``/api`` (HTTP ``GET``/``POST`` and the WebSocket), for the control unit
of node ``machine``, which this node reaches over the bus
(``camnet.network.remote_nodes``): reads and writes travel to that node and run there;
the WebSocket sends the mirrored state on connect, then every Update of that control
unit, which every node hears. ``/nodes/{own machine}/api`` is this node's own ``/api``,
so a client may address every node of a network the same way. Credentials, permissions
and error bodies are this node's and this dialect's; a node that does not answer makes a
503 (``unavailable``). Live images (``/camera.jpeg``, ``/camera.mjpeg``) of another
node are not served here: ask that node.
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import Send
from starlette.websockets import WebSocket

from camnet.bus.base import Bus
from camnet.faces.c2.context import C2Context
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.fanout import StateFanout
from camnet.faces.c2.http import serve_api
from camnet.faces.c2.websocket import RawSocketApp, serve_socket
from camnet.network.remote_nodes import RemoteNodes

PREFIX = "/nodes/{machine}"


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
        fanout = StateFanout(self._bus, device.name)
        fanout.start()
        context = self._contexts[machine] = replace(self._local, device=device, fanout=fanout)
        return context

    def stop(self) -> None:
        for context in self._contexts.values():
            context.fanout.stop()
        self._contexts.clear()


def node_c2_routes(contexts: NodeContexts) -> list[Route | WebSocketRoute]:
    async def api(request: Request) -> Response:
        try:
            context = contexts.of(request.path_params["machine"])
        except C2Error as exc:
            return exc.response()
        return await serve_api(context, request)

    async def api_socket(websocket: WebSocket, send: Send) -> None:
        try:
            context = contexts.of(websocket.path_params["machine"])
        except C2Error as exc:
            await websocket.send_denial_response(exc.response())
            return
        await serve_socket(context, websocket, send)

    return [
        Route(f"{PREFIX}/api", api, methods=["GET", "POST"], name="c2_node_api"),
        WebSocketRoute(f"{PREFIX}/api", RawSocketApp(api_socket), name="c2_node_api_socket"),
    ]
