"""``/cameras/{mxid}/streams/{stream}/video`` as a WebSocket: the stream as fragmented MP4
(H.264), as the vendor's server sends it to Robopipe Studio (its
``docs/api/websocket-api-reference/stream.md``). An HTTP GET of the same path stays MJPEG
(``video.py``).

Each binary message is one piece a Media Source Extensions ``SourceBuffer`` appends as
it is: first the init segment (``ftyp`` + ``moov``), then one fragment (``moof`` +
``mdat``) per picture, starting at a keyframe. A new init segment precedes a keyframe
whose parameter sets differ from the last one sent (the stream's size changed). The
pictures come from the stream's one shared H.264 encoder (``media/h264.py``), the one
RTSP uses, and each fragment is built once for every viewer. Decode times are the
encoder's 90 kHz clock, so a viewer that joins a running stream starts at some time X,
not 0 (as the vendor's document says); players in ``sequence`` mode do not notice.

The viewer is counted against the MJPEG caps of the same stream and credentials while
the socket is open; past a cap the upgrade is refused with 503 or 429 ``{"detail"}``.
The socket closes (1001) when the stream is deactivated or the node stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from starlette.responses import JSONResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from camnet.media.h264 import H264Encoder
from camnet.ops.limits import LimitReached, ViewerLimits

log = logging.getLogger(__name__)

GOING_AWAY: Final = 1001


async def _disconnected(websocket: WebSocket) -> None:
    """Returns when the client has gone; what it sends is ignored."""
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        while (await websocket.receive())["type"] != "websocket.disconnect":
            pass


async def serve_fmp4(
    websocket: WebSocket,
    encoder: H264Encoder,
    limits: ViewerLimits | None,
    key: str,
    token: str | None,
) -> None:
    """Accept the socket and send the stream until the client goes or the stream ends."""
    watching: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    if limits is not None:
        try:
            watching = limits.watching(key, token)
            watching.__enter__()
        except LimitReached as refused:
            status = 503 if refused.limit == "mjpeg_viewers_per_stream" else 429
            await websocket.send_denial_response(
                JSONResponse(
                    {"detail": refused.message}, status_code=status, headers={"Retry-After": "5"}
                )
            )
            return
    try:
        await websocket.accept()
        await _send(websocket, encoder)
    finally:
        watching.__exit__(None, None, None)


async def _send(websocket: WebSocket, encoder: H264Encoder) -> None:
    subscriber = encoder.subscribe()
    gone = asyncio.ensure_future(_disconnected(websocket))
    sent_init: bytes | None = None
    try:
        while True:
            next_unit = asyncio.ensure_future(subscriber.queue.get())
            await asyncio.wait({next_unit, gone}, return_when=asyncio.FIRST_COMPLETED)
            if not next_unit.done():
                next_unit.cancel()
                return  # the client went
            unit = next_unit.result()
            if unit is None:
                with contextlib.suppress(Exception):
                    await websocket.close(GOING_AWAY, "the stream ended")
                return
            init = unit.init_segment if unit.keyframe else None
            if init is not None and init != sent_init:
                await websocket.send_bytes(init)
                sent_init = init
            if sent_init is None:
                continue  # never: a subscriber starts at a keyframe, which carries SPS/PPS
            await websocket.send_bytes(unit.fragment)
    except (WebSocketDisconnect, OSError, RuntimeError) as exc:
        log.debug("fMP4 viewer of %s went: %s", encoder.name, exc)
    finally:
        encoder.unsubscribe(subscriber)
        gone.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await gone
