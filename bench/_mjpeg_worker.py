"""The viewer side of ``mjpeg_fanout.py``: many raw MJPEG viewers in one process.

Line protocol with the parent (stdin/stdout):

    worker → parent   ``ready N``          N viewers connected, each has had a frame
    parent → worker   ``go``               start counting
    parent → worker   ``stop``             stop counting; the worker answers
    worker → parent   ``result JSON``      {"fps": [...per viewer], "ages": [sample, s],
                                           "dead": viewers whose connection closed}
    parent → worker   ``quit`` (or EOF)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections.abc import Sequence
from urllib.parse import urlsplit

from _harness import raise_nofile_limit, use_uvloop
from _mjpeg_client import MjpegViewer

AGE_SAMPLE = 20000


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def connect(url: str, count: int, batch: int) -> list[MjpegViewer]:
    parts = urlsplit(url)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode()
    loop = asyncio.get_running_loop()
    viewers: list[MjpegViewer] = []

    async def one() -> MjpegViewer:
        _, viewer = await loop.create_connection(
            lambda: MjpegViewer(request, keep_ages=False),
            parts.hostname or "127.0.0.1",
            parts.port or 80,
        )
        await viewer.first
        return viewer

    for start in range(0, count, batch):
        size = min(batch, count - start)
        async with asyncio.timeout(60):
            viewers.extend(await asyncio.gather(*(one() for _ in range(size))))
    return viewers


async def run(url: str, count: int, batch: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    viewers = await connect(url, count, batch)
    emit(f"ready {len(viewers)}")
    started, counts = 0.0, [0] * len(viewers)
    try:
        while line := (await reader.readline()).decode().strip():
            if line == "go":
                for viewer in viewers:
                    viewer.ages.clear()
                    viewer.keep_ages = True
                counts = [viewer.frames for viewer in viewers]
                started = time.monotonic()
            elif line == "stop":
                elapsed = time.monotonic() - started
                fps = [(v.frames - c) / elapsed for v, c in zip(viewers, counts, strict=True)]
                ages = [age for viewer in viewers for age in viewer.ages]
                for viewer in viewers:
                    viewer.keep_ages = False
                if len(ages) > AGE_SAMPLE:
                    ages = random.Random(1).sample(ages, AGE_SAMPLE)
                dead = sum(1 for viewer in viewers if viewer.closed)
                emit("result " + json.dumps({"fps": fps, "ages": ages, "dead": dead}))
            elif line == "quit":
                break
    finally:
        for viewer in viewers:
            viewer.close()
        await asyncio.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--viewers", type=int, required=True)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    raise_nofile_limit(args.viewers + 256)
    use_uvloop()
    try:
        asyncio.run(run(args.url, args.viewers, args.batch))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
