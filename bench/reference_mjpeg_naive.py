"""The naive MJPEG server ``mjpeg_fanout.py`` compares camnet with: encode per viewer.

Same stack as camnet (uvicorn, uvloop, httptools, a raw ASGI app) and the same scene
(camnet's simulated head, composed at 1280×720, 30 fps, captured once per frame in a
thread), but each viewer JPEG-encodes every frame it sends itself, in the default thread
pool, as a per-viewer generator does in many camera servers. The encode count therefore
grows with the number of viewers, which is the design choice being measured.

``GET /camera.mjpeg`` streams; ``GET /status`` answers ``{"captured": N, "encoded": N}``.
Ready line: ``reference-mjpeg listening on http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time
from collections.abc import Sequence

import simplejpeg
import uvicorn
from starlette.types import Receive, Scope, Send

from camnet.devices.sources.base import Image
from camnet.devices.sources.sim import SimulatedHead
from camnet.media import mjpeg
from camnet.media.compose import Composer, HeadSources
from camnet.media.config import StreamConfig

CONFIG = StreamConfig(width=1280, height=720, fps=30, quality=75)


async def disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


class Reference:
    def __init__(self) -> None:
        self.composer = Composer(HeadSources([SimulatedHead(0, "reference head 0"), None]))
        self.latest: tuple[int, float, Image] | None = None
        self.waiters: list[asyncio.Future[None]] = []
        self.captured = 0
        self.encoded = 0
        self.loop: asyncio.AbstractEventLoop | None = None

    def capture_forever(self) -> None:
        """One capture per frame, in a thread, as camnet does; no encoding here."""
        assert self.loop is not None
        due = time.monotonic()
        sequence = 0
        while True:
            epoch = time.time()
            image = self.composer.compose(CONFIG, time.monotonic(), epoch)
            assert image is not None
            sequence += 1
            self.captured += 1
            self.loop.call_soon_threadsafe(self.publish, (sequence, epoch, image))
            due = max(due + 1 / CONFIG.fps, time.monotonic() - 1 / CONFIG.fps)
            time.sleep(max(0.0, due - time.monotonic()))

    def publish(self, frame: tuple[int, float, Image]) -> None:
        self.latest = frame
        waiters, self.waiters = self.waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def encode(self, image: Image) -> bytes:
        self.encoded += 1
        jpeg: bytes = simplejpeg.encode_jpeg(image, quality=CONFIG.quality, colorspace="RGB")
        return jpeg

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await receive()  # lifespan.startup
            self.loop = asyncio.get_running_loop()
            threading.Thread(target=self.capture_forever, daemon=True).start()
            await send({"type": "lifespan.startup.complete"})
            await receive()  # lifespan.shutdown
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["path"] == "/status":
            body = json.dumps({"captured": self.captured, "encoded": self.encoded}).encode()
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", mjpeg.CONTENT_TYPE.encode())],
            }
        )
        gone = asyncio.ensure_future(disconnected(receive))
        sequence = 0
        try:
            while not gone.done():
                if self.latest is None or self.latest[0] <= sequence:
                    waiter = asyncio.get_running_loop().create_future()
                    self.waiters.append(waiter)
                    await waiter
                    continue
                sequence, epoch, image = self.latest
                jpeg = await asyncio.to_thread(self.encode, image)
                part = mjpeg.part(jpeg, epoch)
                await send({"type": "http.response.body", "body": part, "more_body": True})
        finally:
            gone.cancel()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(4096)
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        Reference(),
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    print(f"reference-mjpeg listening on http://127.0.0.1:{port}", flush=True)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
