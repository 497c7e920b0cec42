"""The subscriber side of ``ws_fanout.py``: many raw WebSocket clients in one process.

Kept out of the measuring process so that the server, the subscribers and the setter
each get CPU of their own where the machine has it, and so that nothing but raw
Protocols (on uvloop) touches the subscribers' bytes. It talks to its parent over
stdin/stdout, one line per message:

    worker → parent   ``ready N``                     all N clients got their first message
    parent → worker   ``arm ROUND true|false``        expect that light0 value next
    worker → parent   ``armed ROUND``
    worker → parent   ``done ROUND COUNT LAST OTHER`` COUNT clients got it; LAST = latest
                                                      arrival (CLOCK_MONOTONIC seconds);
                                                      OTHER = messages without light0
                                                      (camnet's readings) during the round
    parent → worker   ``quit`` (or EOF)

A round ends when every client has the value or after ``--round-timeout`` seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Sequence

from _harness import WsClient, open_ws_clients, raise_nofile_limit, use_uvloop


class Rounds:
    """Counts, per round, the clients that got the expected ``light0`` value."""

    def __init__(self, total: int, timeout: float) -> None:
        self.total = total
        self.timeout = timeout
        self.round = -1
        self.expected: bool | None = None
        self.count = 0
        self.last = 0.0
        self.other = 0
        self._timer: asyncio.TimerHandle | None = None

    def arm(self, number: int, expected: bool) -> None:
        self.round, self.expected, self.count, self.last, self.other = number, expected, 0, 0.0, 0
        self._timer = asyncio.get_running_loop().call_later(self.timeout, self._report)

    def on_message(self, client: WsClient, payload: bytes, arrival: float) -> None:
        if self.expected is None or client.round == self.round:
            return
        if b'"light0"' not in payload:
            self.other += 1
            return
        try:
            value = json.loads(payload).get("light0")
        except (ValueError, AttributeError):
            return
        if value is not self.expected:
            return
        client.round = self.round
        self.count += 1
        self.last = max(self.last, arrival)
        if self.count == self.total:
            self._report()

    def _report(self) -> None:
        if self.expected is None:
            return
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.expected = None
        emit(f"done {self.round} {self.count} {self.last!r} {self.other}")


def emit(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def run(url: str, count: int, batch: int, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    rounds = Rounds(count, timeout)
    clients = await open_ws_clients(url, count, batch, rounds.on_message)
    try:
        emit(f"ready {len(clients)}")
        while line := (await reader.readline()).decode().strip():
            command, *rest = line.split()
            if command == "arm":
                rounds.arm(int(rest[0]), rest[1] == "true")
                emit(f"armed {rest[0]}")
            elif command == "quit":
                break
    finally:
        for client in clients:
            client.close()
        await asyncio.sleep(0.2)  # let the close frames go out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="ws://127.0.0.1:PORT/…")
    parser.add_argument("--clients", type=int, required=True)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--round-timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    raise_nofile_limit(args.clients + 256)
    use_uvloop()
    try:
        asyncio.run(run(args.url, args.clients, args.batch, args.round_timeout))
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
