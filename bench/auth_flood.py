"""An acknowledged c2 write's latency while 20 connections guess passwords (issue 17 item 3).

Why: argon2 makes each password check cost tens of milliseconds on purpose. When those
checks ran on the database thread, every acknowledged write (which commits on that
thread) queued behind them: 20 connections sending wrong Basic passwords took a write's
p99 from 17 ms to 5.2 s. Now the checks run on their own small, bounded pool, one at a
time per address, and the credential throttle refuses a guesser without a hash once its
budget is spent. Refused at once, though, 20 connections drew thousands of refusals a
second, and answering them took the CPU; so a guesser's refusal is held (the tarpit,
``token_failure_hold``, 1 s), its failures are paced as much, and each connection gets
about one answer a second. The
goal: with the flood, the write's p99 stays within 2x its idle p99, measured in the
same run.

Two servers, one after the other, each measured idle and then under the flood:

- ``default``: the shipped budgets (30 failures per address per minute, then 429 with
  ``Retry-After``): after the first 30 guesses the flood costs almost nothing;
- ``unthrottled``: the failure budgets raised out of reach, so every guess is verified
  by argon2 for the whole run: this isolates what the hashing pool alone does;
- ``no-tarpit`` (only when asked for): the shipped budgets with refusals answered at
  once and failures not paced (``token_failure_hold = 0``): what the tarpit saves.

The writer is one keep-alive connection sending ``POST /api`` ``{"light0": …}`` with the
API-User's query token (verified once, then remembered), one request at a time; each
answer comes after the change is committed. Run from the repository root:
``python bench/auth_flood.py`` (``--help`` for the knobs). To measure the code before
the fix, point ``PYTHONPATH`` at another checkout's ``src``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import secrets
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from _harness import (
    Camnet,
    HttpConnection,
    install_sigterm_as_exit,
    percentile,
    print_table,
)

MODES: dict[str, dict[str, str]] = {
    "default": {},
    "unthrottled": {
        "CAMNET_TOKEN_FAILURES_PER_MINUTE": "1000000",
        "CAMNET_TOKEN_FAILURES_BEFORE_BACKOFF": "1000",
    },
    "no-tarpit": {"CAMNET_TOKEN_FAILURE_HOLD": "0"},
}


@contextmanager
def environment(values: dict[str, str]) -> Iterator[None]:
    """Settings for the next server (the harness passes os.environ on)."""
    saved = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def write_request(host: str, token: str, on: bool) -> bytes:
    body = json.dumps({"light0": on}).encode()
    return (
        f"POST /api?token={token} HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


async def writes(base_url: str, token: str, count: int) -> list[float]:
    """``count`` acknowledged writes, one at a time; each one's latency in seconds."""
    connection = await HttpConnection.open(base_url)
    latencies = []
    try:
        for n in range(count):
            started = time.perf_counter()
            status, body = await connection.send(write_request(connection.host, token, n % 2 == 0))
            latencies.append(time.perf_counter() - started)
            if status != 200:
                raise RuntimeError(f"a write answered {status}: {body[:200]!r}")
    finally:
        connection.close()
    return latencies


async def guesser(base_url: str, stop: asyncio.Event, statuses: dict[int, int]) -> None:
    """Wrong Basic passwords for admin, each one new (nothing to remember), back to back."""
    connection = await HttpConnection.open(base_url)
    try:
        while not stop.is_set():
            secret = base64.b64encode(f"admin:{secrets.token_hex(8)}".encode()).decode()
            raw = (
                f"GET /api?get=[light0] HTTP/1.1\r\nHost: {connection.host}\r\n"
                f"Authorization: Basic {secret}\r\n\r\n"
            ).encode()
            status, _ = await connection.send(raw)
            if not stop.is_set():  # an answer held past the end is not the phase's
                statuses[status] = statuses.get(status, 0) + 1
    finally:
        connection.close()


@dataclass
class Result:
    idle: list[float]
    flooded: list[float]
    guesses_per_s: float
    statuses: dict[int, int]

    def row(self, mode: str) -> list[object]:
        idle_p99, flood_p99 = percentile(self.idle, 99), percentile(self.flooded, 99)
        return [
            mode,
            f"{1000 * statistics.median(self.idle):.1f}",
            f"{1000 * idle_p99:.1f}",
            f"{1000 * statistics.median(self.flooded):.1f}",
            f"{1000 * flood_p99:.1f}",
            f"{flood_p99 / idle_p99:.2f}x",
            f"{self.guesses_per_s:.0f}",
            json.dumps(dict(sorted(self.statuses.items()))),
        ]


async def measure(base_url: str, token: str, count: int, flood: int) -> Result:
    await writes(base_url, token, 20)  # warm: the token's one verification, the pages
    idle = await writes(base_url, token, count)
    stop = asyncio.Event()
    statuses: dict[int, int] = {}
    flood_started = time.perf_counter()
    guessers = [asyncio.create_task(guesser(base_url, stop, statuses)) for _ in range(flood)]
    await asyncio.sleep(1.0)  # the flood is under way before the writes are timed
    flooded = await writes(base_url, token, count)
    stop.set()
    elapsed = time.perf_counter() - flood_started
    for task in guessers:  # held answers are not waited for: the connections close
        task.cancel()
    await asyncio.gather(*guessers, return_exceptions=True)
    return Result(idle, flooded, sum(statuses.values()) / max(elapsed, 1e-9), statuses)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writes", type=int, default=300, help="timed writes per phase")
    parser.add_argument("--connections", type=int, default=20, help="guessing connections")
    parser.add_argument(
        "--modes",
        default="default,unthrottled",
        help="comma-separated: default, unthrottled, no-tarpit",
    )
    parser.add_argument(
        "--server-cpus", default=None, help="pin the server to these CPUs (taskset -c list)"
    )
    parser.add_argument(
        "--client-cpus", default=None, help="pin this load generator to these CPUs (e.g. 1)"
    )
    args = parser.parse_args()
    install_sigterm_as_exit()
    if args.client_cpus:
        os.sched_setaffinity(0, {int(cpu) for cpu in args.client_cpus.split(",")})
    rows = []
    for mode in args.modes.split(","):
        with (
            environment(MODES[mode]),
            Camnet(pin=args.server_cpus) as camnet,
        ):
            result = asyncio.run(
                measure(camnet.base_url, camnet.token, args.writes, args.connections)
            )
        rows.append(result.row(mode))
    print_table(
        [
            "mode",
            "idle p50 ms",
            "idle p99 ms",
            "flood p50 ms",
            "flood p99 ms",
            "p99 ratio",
            "answers/s",
            "answers to guesses",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
