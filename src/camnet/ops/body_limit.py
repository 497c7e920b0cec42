"""The request body cap (``max_body_bytes``) for every face, in one place.

Each face used to guard its own reads, and a face that read its body through FastAPI
(streams) had no cap at all. This ASGI layer refuses an oversized body before any route
runs, so no handler ever holds more than the cap and no change is half-applied; the
refusal is worded by the route's own face (c2 ``{"error":…}``, fleet ``{"httpError":…}``,
house ``{"statusCode":…}``, streams ``{"detail":…}``) and counted by the request
middleware (every 413 is ``camnet_limit_refusals_total{limit="request_body_bytes"}``).

A declared ``Content-Length`` over the cap is refused before any route reads it (the
rest of the body, up to ``max(cap, 1 MiB)`` more, is read and dropped so the client
reads its answer; a larger one closes the connection). A chunked body (no length) is
read here, up to the cap, and handed on whole: what a route reads is what the route would
have buffered anyway, and never more than the cap.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Final

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from camnet.identity.gate import Refusal

CODE: Final = "body_too_large"
DRAIN_SECONDS: Final = 2.0
DRAIN_BYTES: Final = 1 << 20
"""At least this much of a refused body is read and dropped (more when the cap is larger)."""


class BodyLimit:
    """Raw ASGI middleware; costs one header scan for requests within the cap."""

    def __init__(self, app: ASGIApp, limit: int, refusal: Callable[[Scope], Refusal]) -> None:
        self.app = app
        self.limit = limit
        self.refusal = refusal
        self.drain_bytes = max(limit, DRAIN_BYTES)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared: bytes | None = None
        chunked = False
        for key, value in scope["headers"]:
            if key == b"content-length":
                declared = value
            elif key == b"transfer-encoding":
                chunked = True
        if declared is not None:
            digits = declared.strip()
            # More digits than any limit: too large (int() of 4,301 digits would raise).
            length = (
                (int(digits) if len(digits) <= 18 else self.limit + 1) if digits.isdigit() else 0
            )
            if length > self.limit:
                # Beyond what may be drained the rest is not read: the connection closes.
                drain = length <= self.limit + self.drain_bytes
                await self._refuse(scope, receive, send, drain=drain)
                return
            # Within the cap: the HTTP server delivers no more than the declared length.
            await self.app(scope, receive, send)
            return
        if not chunked:
            await self.app(scope, receive, send)
            return
        buffered, within = await self._read(receive)
        if not within:
            ended = not buffered[-1].get("more_body", False)
            await self._refuse(scope, receive, send, drain=not ended, ended=ended)
            return
        await self.app(scope, _replay(buffered, receive), send)

    async def _read(self, receive: Receive) -> tuple[list[Message], bool]:
        """The body's messages, and whether they are within the cap (reading stops as
        soon as they are not)."""
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                return messages, True  # the client left; the route sees the disconnect
            size += len(message.get("body", b""))
            if size > self.limit:
                return messages, False
            if not message.get("more_body", False):
                return messages, True

    async def _refuse(
        self, scope: Scope, receive: Receive, send: Send, *, drain: bool, ended: bool = False
    ) -> None:
        """The 413, after reading (and dropping) the rest of the body when it is not much
        more than the cap: a socket closed with unread data makes the kernel send a
        reset, which can destroy the answer before the client has read it."""
        finished = ended or (drain and await self._drain(receive))
        refuse = self.refusal(scope)
        response = refuse(
            413,
            CODE,
            f"request bodies are limited to {self.limit} bytes (max_body_bytes)",
            {} if finished else {"Connection": "close"},
        )
        await response(scope, receive, send)

    async def _drain(self, receive: Receive) -> bool:
        """Read up to ``drain_bytes`` more within ``DRAIN_SECONDS``; True when the body
        has ended (the connection can serve the next request)."""
        drained = 0
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(DRAIN_SECONDS):
                while drained <= self.drain_bytes:
                    message = await receive()
                    if message["type"] != "http.request":
                        return False
                    drained += len(message.get("body", b""))
                    if not message.get("more_body", False):
                        return True
        return False


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """``receive`` that first hands out ``messages``, then asks the server again (for the
    disconnect a streaming response listens for)."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
