"""The WebSocket side of ``soak.py``: many raw c2 WebSocket clients in one process.

Each client counts the messages it receives and remembers whether it was closed or got
an error message from the server. Line protocol with the parent (stdin/stdout):

    worker → parent   ``ready N``       N clients connected, each has had its first message
    parent → worker   ``stats``
    worker → parent   ``stats JSON``    {"clients", "closed", "errors", "messages",
                                        "least": fewest messages one open client got since
                                        the last ``stats``}
    parent → worker   ``quit`` (or EOF)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from _harness import WsClient, open_ws_clients, raise_nofile_limit, use_uvloop


class Tally:
    """Messages per client, and the error messages seen (c2 words errors as ``"error"``)."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.errors = 0
        self.samples: list[str] = []

    def on_message(self, client: WsClient, payload: bytes, arrival: float) -> None:
        key = id(client)
        self.counts[key] = self.counts.get(key, 0) + 1
        if payload.startswith(b'{"error"'):
            self.errors += 1
            if len(self.samples) < 5:
                self.samples.append(payload[:300].decode("utf-8", "replace"))


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run(url: str, count: int, batch: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    tally = Tally()
    clients = await open_ws_clients(url, count, batch, tally.on_message, timeout=120)
    closed: set[int] = set()
    try:
        emit(f"ready {len(clients)}")
        last = {id(client): tally.counts.get(id(client), 0) for client in clients}
        while line := (await reader.readline()).decode().strip():
            if line == "stats":
                now = {id(client): tally.counts.get(id(client), 0) for client in clients}
                for client in clients:
                    if client._transport is None:
                        closed.add(id(client))
                open_gains = [now[k] - last[k] for k in now if k not in closed]
                last = now
                emit(
                    "stats "
                    + json.dumps(
                        {
                            "clients": len(clients),
                            "closed": len(closed),
                            "errors": tally.errors,
                            "error_samples": tally.samples,
                            "messages": sum(now.values()),
                            "least": min(open_gains, default=0),
                        }
                    )
                )
            elif line == "quit":
                break
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(0.2)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:PORT/api?token=…")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--batch", type=int, default=50)
    args = parser.parse_args(argv)
    raise_nofile_limit(args.clients + 256)
    use_uvloop()
    try:
        asyncio.run(run(args.url, args.clients, args.batch))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
