"""A small webhook receiver for bench/webhook_delivery.py (its own process).

Answers every POST with the status set by ``GET /control?status=N`` (and ``Retry-After``
when it is 503), records the arrival time of each ``webhook-id`` once, and reports them at
``GET /stats`` as JSON. asyncio streams, keep-alive, nothing else.
"""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs, urlsplit

arrivals: dict[str, tuple[float, bytes]] = {}
posts = 0
status = 200


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global posts, status
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            answer = b""
            code = 200
            extra = ""
            parts = urlsplit(target)
            if method == "POST":
                posts += 1
                code = status
                if code == 200:
                    arrivals.setdefault(headers.get("webhook-id", ""), (time.time(), body))
                elif code == 503:
                    extra = "Retry-After: 1\r\n"
            elif parts.path == "/control":
                status = int(parse_qs(parts.query)["status"][0])
            elif parts.path == "/stats":
                answer = json.dumps(
                    {
                        "posts": posts,
                        "arrivals": {k: [t, b.decode()] for k, (t, b) in arrivals.items()},
                    }
                ).encode()
            elif parts.path == "/reset":
                arrivals.clear()
                posts = 0
            writer.write(
                f"HTTP/1.1 {code} X\r\ncontent-length: {len(answer)}\r\n{extra}\r\n".encode()
                + answer
            )
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    print(f"receiver listening on http://127.0.0.1:{port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
