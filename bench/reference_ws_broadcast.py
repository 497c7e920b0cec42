"""The bare baseline for ``ws_fanout.py``: ``websockets.broadcast`` to every client.

camnet's WebSocket fan-out goes HTTP setter → device → bus → per-client merge queue →
uvicorn's WebSocket send. The least any Python server can do for the same job is
``websockets.broadcast``: serialise once, write the frame into every connection's
transport in one loop. This server does that and nothing else, so comparing the two
says what camnet's layers cost on top of the floor.

It mirrors camnet's c2 face where the clients can see it: on connect it sends a ~5 KB JSON
"whole state" message, then each change as ``{"light0":…}``. Changes are triggered by a
keep-alive HTTP ``GET /api?light0=true|false`` on a second port (a raw asyncio server, so
the trigger costs next to nothing and the setter client is the same as for camnet). It
runs on uvloop like camnet. Ready line: ``… listening on http://HOST:HTTP ws://HOST:WS/``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
from collections.abc import Sequence
from urllib.parse import parse_qsl, urlsplit

from websockets.asyncio.server import ServerConnection, broadcast, serve


def initial_state(size: int) -> dict[str, object]:
    """A stand-in for camnet's whole-state message, about ``size`` bytes of JSON."""
    state: dict[str, object] = {"light0": False, "record": "stop"}
    index = 0
    while len(json.dumps(state, separators=(",", ":"))) < size:
        state[f"var{index:03d}"] = f"value {index:05d}"
        index += 1
    return state


class Reference:
    def __init__(self, initial_size: int) -> None:
        self.clients: set[ServerConnection] = set()
        self.state = initial_state(initial_size)

    async def ws_handler(self, connection: ServerConnection) -> None:
        await connection.send(json.dumps(self.state, separators=(",", ":")))
        self.clients.add(connection)
        try:
            async for _ in connection:
                pass
        finally:
            self.clients.discard(connection)

    def set_light(self, value: bool) -> bytes:
        self.state["light0"] = value
        text = json.dumps({"light0": value}, separators=(",", ":"))
        broadcast(self.clients, text)
        return text.encode()

    async def http_handler(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                target = head.split(b" ", 2)[1].decode("latin-1")
                query = dict(parse_qsl(urlsplit(target).query))
                if "light0" in query:
                    body = self.set_light(query["light0"] == "true")
                    status = b"200 OK"
                else:
                    body, status = b'{"error":"light0=true|false expected"}', b"400 Bad Request"
                writer.write(
                    b"HTTP/1.1 " + status + b"\r\ncontent-type: application/json\r\n"
                    b"content-length: " + str(len(body)).encode() + b"\r\n\r\n" + body
                )
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


async def serve_forever(host: str, initial_size: int) -> None:
    reference = Reference(initial_size)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    http = await asyncio.start_server(reference.http_handler, host, 0, backlog=4096)
    async with serve(
        reference.ws_handler, host, 0, compression=None, max_queue=16, backlog=4096
    ) as ws_server:
        http_port = http.sockets[0].getsockname()[1]
        ws_port = ws_server.sockets[0].getsockname()[1]
        print(
            f"reference-ws listening on http://{host}:{http_port} ws://{host}:{ws_port}/",
            flush=True,
        )
        await stop.wait()
    http.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--initial-size", type=int, default=5000, help="bytes of initial JSON")
    parser.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop")
    args = parser.parse_args(argv)
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(serve_forever(args.host, args.initial_size))
    else:
        asyncio.run(serve_forever(args.host, args.initial_size))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
