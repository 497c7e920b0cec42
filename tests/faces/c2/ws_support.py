"""A small async c2 WebSocket client for tests: waits for the messages that matter."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from websockets.asyncio.client import ClientConnection, connect


async def open_api(url: str, token: str, user: str | None = None) -> ClientConnection:
    query = f"?token={token}" + (f"&user={user}" if user else "")
    return await connect(url + query, max_size=None)


async def receive_json(ws: ClientConnection, timeout: float = 5.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), "the server sends JSON text"
    message = json.loads(raw)
    assert isinstance(message, dict)
    return message


async def wait_for_key(ws: ClientConnection, key: str, timeout: float = 5.0) -> dict[str, Any]:
    """The next message that carries ``key`` (simulated readings arrive in between)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no message with {key!r}")
        message = await receive_json(ws, remaining)
        if key in message:
            return message


async def collect(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every message that arrives within ``seconds``."""
    messages = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            messages.append(await receive_json(ws, remaining))
        except TimeoutError:
            break
    return messages
