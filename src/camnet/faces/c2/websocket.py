"""``ws://…/api``: the whole readable state on connect, then every change as it happens."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Final

from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

from camnet.devices.device import Read, WriteRefused
from camnet.devices.surface import DeviceUnavailable
from camnet.faces.c2.context import C2Context, authenticate, query_pairs
from camnet.faces.c2.errors import C2Error, Problem
from camnet.faces.c2.fanout import SendText, StateClient
from camnet.faces.c2.parsing import body_operations, json_pairs
from camnet.identity.browser import WEBSOCKET
from camnet.identity.gate import live_session
from camnet.identity.live import POLICY_VIOLATION, until_ended
from camnet.identity.permissions import Principal

log = logging.getLogger(__name__)

MESSAGE_TOO_BIG: Final = 1009
WS_LIMIT: Final = "websocket_message_bytes"
"""The name of this limit in ``camnet_limit_refusals_total``."""


def _text_sender(send: Send) -> SendText:
    """Send text frames straight through the ASGI ``send``: the fan-out calls this once
    per client per change, and Starlette's per-message state checks add nothing once the
    socket is accepted (a closed socket still raises, and the client is dropped)."""

    async def send_text(text: str) -> None:
        await send({"type": "websocket.send", "text": text})

    return send_text


def c2_websocket_route(context: C2Context) -> WebSocketRoute:
    async def api_socket(websocket: WebSocket, send: Send) -> None:
        await serve_socket(context, websocket, send)

    return WebSocketRoute("/api", RawSocketApp(api_socket), name="c2_api_socket")


async def serve_socket(
    context: C2Context,
    websocket: WebSocket,
    send: Send,
    prepare: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """One c2 WebSocket on ``context.device`` (whose changes ``context.fanout`` pushes).

    ``prepare`` runs once the client is authenticated, before its first state (a remote
    device is read then, so that state is current)."""
    try:
        principal = await authenticate(
            context, query_pairs(websocket.scope["query_string"]), websocket.headers, WEBSOCKET
        )
    except C2Error as exc:
        await websocket.send_denial_response(exc.response())
        return
    await websocket.accept()
    if prepare is not None:
        await prepare()
    client = StateClient(_text_sender(send), principal.grant)
    readable = principal.grant.readable(context.device.schema)
    context.fanout.join(client, context.device.snapshot(readable))
    try:
        with live_session(websocket.scope) as ended:
            if await until_ended(_serve(websocket, context, client, principal), ended):
                with contextlib.suppress(Exception):  # the client may be gone already
                    await websocket.close(POLICY_VIOLATION, "the credentials ended")
    except WebSocketDisconnect:
        pass
    finally:
        context.fanout.leave(client)


class RawSocketApp:
    """An ASGI app (not a function, so Starlette passes the raw ``send`` through)."""

    def __init__(self, handler: Callable[[WebSocket, Send], Awaitable[None]]) -> None:
        self._handler = handler

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._handler(WebSocket(scope, receive, send), send)


def _too_large(text: str | None, data: bytes | None, limit: int) -> bool:
    """Whether a message is over ``limit`` bytes (UTF-8 for text), encoding only when its
    length in characters leaves the question open."""
    if data is not None:
        return len(data) > limit
    if text is None or len(text) * 4 <= limit:
        return False
    return len(text) > limit or len(text.encode()) > limit


async def _refuse_large(websocket: WebSocket, context: C2Context, client: StateClient) -> None:
    """The dialect's error message, then close 1009 (message too big), counted."""
    limit = context.ws_max_message_bytes
    if context.on_refusal is not None:
        context.on_refusal(WS_LIMIT)
    error = C2Error(
        413,
        "message_too_large",
        f"WebSocket messages are limited to {limit} bytes; closing the connection (1009)",
    )
    with contextlib.suppress(Exception):  # the client may be gone already
        await client.last_word(error.text())
    with contextlib.suppress(Exception):
        await websocket.close(MESSAGE_TOO_BIG, f"messages are limited to {limit} bytes")


async def _serve(
    websocket: WebSocket, context: C2Context, client: StateClient, principal: Principal
) -> None:
    schema = context.device.schema
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if _too_large(text, message.get("bytes"), context.ws_max_message_bytes):
            await _refuse_large(websocket, context, client)
            return
        try:
            if text is None:
                raise C2Error(
                    400,
                    "binary_message",
                    "messages must be JSON text frames; binary frames are ignored",
                )
            operations = body_operations(json_pairs(text), schema, principal.grant)
            if not operations:
                continue
            result = await context.device.execute(operations)
        except C2Error as exc:
            client.offer_text(exc.text())
            continue
        except WriteRefused as exc:
            error = C2Error(
                400, "refused", f"{exc}; nothing was changed", [Problem(exc.variable, exc.reason)]
            )
            client.offer_text(error.text())
            continue
        except DeviceUnavailable as exc:
            unavailable = C2Error(503, "unavailable", f"{exc}; nothing is known to have changed")
            client.offer_text(unavailable.text())
            continue
        reads = {
            name: result[name] for op in operations if isinstance(op, Read) for name in op.names
        }
        if reads:
            client.offer(reads)
