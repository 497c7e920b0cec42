"""One live MJPEG viewer: the loop both ``/camera.mjpeg`` (c2) and the streams face's
``/video`` run, so they skip, count and end the same way.

The viewer awaits "a frame newer than mine" from its hub and sends that frame's prebuilt
part bytes as they are: nothing is encoded, copied or queued per viewer; a slow viewer
waits in its send (the HTTP server's flow control) and then gets the newest frame,
skipping, and counting, the ones it missed.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from starlette.types import Receive, Send

from camnet.media.hub import HubStopped, StreamHub


async def _disconnected(receive: Receive) -> None:
    """Returns when the client has gone (the request body of a GET is empty)."""
    while (await receive())["type"] != "http.disconnect":
        pass


async def send_frames(
    hub: StreamHub, receive: Receive, send: Send, ended: asyncio.Event | None = None
) -> None:
    """Send ``hub``'s frames until the client goes, the hub stops or ``ended`` is set
    (the viewer's credentials ended), then end the body (the response has started).
    Whichever comes first stops the sending at once: a viewer that left frees its place
    without waiting for the next frame."""

    async def frames() -> None:
        async with hub.viewing() as viewer:
            sequence = -1
            while True:
                frame = await hub.newer_than(sequence)
                hub.sent(viewer, frame, sequence)
                sequence = frame.sequence
                await send(frame.message)

    sending = asyncio.ensure_future(frames())
    waiters: set[asyncio.Future[Any]] = {sending, asyncio.ensure_future(_disconnected(receive))}
    if ended is not None:
        waiters.add(asyncio.ensure_future(ended.wait()))
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError, HubStopped):
            await sending
    with contextlib.suppress(Exception):
        await send({"type": "http.response.body", "body": b"", "more_body": False})
