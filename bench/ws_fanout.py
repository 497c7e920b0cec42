"""Latency from an HTTP setter to the LAST of 1,000 WebSocket subscribers: camnet vs floor.

Why: a c2 client that changes a variable expects every other client's display to follow
at once; with many subscribers the slowest one is what people notice. The goal is p99 ≤
25 ms for 1,000 subscribers on a 2-core machine. For scale, the same run measures a bare
``websockets.broadcast`` server (``reference_ws_broadcast.py``) the same way, so the
script prints both and the ratio.

How: the subscribers are raw asyncio Protocols on uvloop in separate processes
(``_fanout_worker.py``, two by default, so that parsing 1,000 frames per round does not
delay the last arrival; one worker adds about 2 ms to both servers' figures here),
connected in batches, each confirmed to have its first (whole state) message before any
round starts. A round: the workers are told which ``light0`` value to expect, this
process notes ``time.monotonic()`` and sends ``GET /api?light0=true|false`` on a
keep-alive connection, and the workers report when their last subscriber got a message
carrying that value (CLOCK_MONOTONIC is system-wide,
so the two processes' clocks agree). Other pushes, such as camnet's once-a-second
simulated readings, are ignored. Rounds alternate true/false, one every ``--interval``
seconds or when the previous round ended, whichever is later; the first
``--warmup-rounds`` are not counted.

Run from the repository root: ``python bench/ws_fanout.py`` (``--help`` for the knobs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field

from _harness import (
    Camnet,
    HttpConnection,
    ServerProcess,
    bench_script,
    install_sigterm_as_exit,
    percentile,
    print_table,
    raise_nofile_limit,
    use_uvloop,
)

GOAL_P99_MS = 25.0


@dataclass
class Target:
    name: str
    ws_url: str
    http_url: str
    setter_path: Callable[[bool], str]


@dataclass
class Outcome:
    name: str
    fanout_ms: list[float] = field(default_factory=list)  # math.inf: round timed out
    response_ms: list[float] = field(default_factory=list)
    overlapped: list[bool] = field(default_factory=list)  # another push during the round

    @property
    def timeouts(self) -> int:
        return sum(1 for v in self.fanout_ms if math.isinf(v))

    def figure(self, q: float) -> float:
        return percentile(self.fanout_ms, q)

    def quiet(self, q: float) -> float:
        """The percentile over rounds that did not share the server with another push."""
        return percentile(
            [v for v, o in zip(self.fanout_ms, self.overlapped, strict=True) if not o], q
        )


class Worker:
    """One ``_fanout_worker.py`` process and its line protocol."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(
        cls, url: str, clients: int, batch: int, round_timeout: float, pin: str | None
    ) -> Worker:
        argv = bench_script(
            "_fanout_worker.py",
            "--url", url,
            "--clients", str(clients),
            "--batch", str(batch),
            "--round-timeout", str(round_timeout),
            pin=pin,
        )  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
        )
        return cls(process)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, word: str, timeout: float) -> list[str]:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            line = (await self.process.stdout.readline()).decode().split()
        if not line or line[0] != word:
            raise RuntimeError(f"subscriber worker: expected {word!r}, got {line or 'EOF'!r}")
        return line[1:]

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        try:
            await self.send("quit")
            async with asyncio.timeout(5):
                await self.process.wait()
        except (TimeoutError, ConnectionError):
            self.process.kill()
            await self.process.wait()


async def measure(target: Target, args: argparse.Namespace) -> Outcome:
    outcome = Outcome(target.name)
    shares = [
        args.clients // args.workers + (1 if i < args.clients % args.workers else 0)
        for i in range(args.workers)
    ]
    workers: list[Worker] = []
    setter: HttpConnection | None = None
    try:
        for share in shares:
            workers.append(
                await Worker.start(
                    target.ws_url, share, args.batch, args.round_timeout, args.client_cpus
                )
            )
        started = time.monotonic()
        for worker, share in zip(workers, shares, strict=True):
            (ready,) = await worker.expect("ready", timeout=120)
            if int(ready) != share:
                raise RuntimeError(f"only {ready} of {share} subscribers connected")
        print(
            f"{target.name}: {args.clients} subscribers connected in "
            f"{time.monotonic() - started:.1f} s",
            flush=True,
        )
        setter = await HttpConnection.open(target.http_url)
        requests = {v: setter.request_bytes(target.setter_path(v)) for v in (True, False)}
        for number in range(args.warmup_rounds + args.rounds):
            value = number % 2 == 0
            for worker in workers:
                await worker.send(f"arm {number} {'true' if value else 'false'}")
            for worker in workers:
                await worker.expect("armed", timeout=10)
            sent = time.monotonic()
            status, body = await asyncio.wait_for(setter.send(requests[value]), timeout=10)
            answered = time.monotonic()
            if status != 200:
                raise RuntimeError(f"{target.name} setter answered {status}: {body!r}")
            count, last, other = 0, 0.0, 0
            for worker in workers:
                done = await worker.expect("done", timeout=args.round_timeout + 10)
                count += int(done[1])
                last = max(last, float(done[2]))
                other += int(done[3])
            if number >= args.warmup_rounds:
                complete = count == args.clients
                outcome.fanout_ms.append((last - sent) * 1000 if complete else math.inf)
                outcome.response_ms.append((answered - sent) * 1000)
                outcome.overlapped.append(other > 0)
            await asyncio.sleep(max(0.0, sent + args.interval - time.monotonic()))
    finally:
        if setter is not None:
            setter.close()
        for worker in workers:
            await worker.stop()
    return outcome


def camnet_target(camnet: Camnet) -> Target:
    token = camnet.token
    ws_url = camnet.base_url.replace("http://", "ws://", 1) + f"/api?token={token}"

    def setter(value: bool) -> str:
        return f"/api?token={token}&light0={'true' if value else 'false'}"

    return Target("camnet", ws_url, camnet.base_url, setter)


def reference_target(server: ServerProcess) -> Target:
    http_url = next(u for u in server.urls if u.startswith("http://"))
    ws_url = next(u for u in server.urls if u.startswith("ws://"))

    def setter(value: bool) -> str:
        return f"/api?light0={'true' if value else 'false'}"

    return Target("reference", ws_url, http_url, setter)


def run_target(name: str, args: argparse.Namespace) -> Outcome:
    with ExitStack() as stack:
        if name == "camnet":
            target = camnet_target(stack.enter_context(Camnet(pin=args.server_cpus)))
        else:
            argv = bench_script("reference_ws_broadcast.py", pin=args.server_cpus)
            target = reference_target(stack.enter_context(ServerProcess("reference-ws", argv)))
        return asyncio.run(measure(target, args))


def ms(value: float) -> str:
    return "timeout" if math.isinf(value) else f"{value:.2f}"


def json_ms(value: float) -> float | None:
    return None if math.isinf(value) or math.isnan(value) else round(value, 3)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000, help="WebSocket subscribers")
    parser.add_argument("--rounds", type=int, default=200, help="measured setter rounds")
    parser.add_argument("--warmup-rounds", type=int, default=10, help="rounds not counted")
    parser.add_argument("--interval", type=float, default=0.05, help="seconds between setters")
    parser.add_argument("--round-timeout", type=float, default=2.0, help="seconds per round")
    parser.add_argument("--batch", type=int, default=100, help="clients connected at a time")
    parser.add_argument("--workers", type=int, default=2, help="subscriber processes")
    parser.add_argument(
        "--mode",
        choices=("both", "camnet", "reference"),
        default="both",
        help="which servers to measure (both: camnet, then the reference)",
    )
    parser.add_argument("--server-cpus", help="taskset CPU list for the server, e.g. 0")
    parser.add_argument("--client-cpus", help="taskset CPU list for the subscribers, e.g. 1")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 20000 or not 1 <= args.rounds <= 100000:
        parser.error("--clients must be 1..20000 and --rounds 1..100000")
    if not 1 <= args.workers <= min(8, args.clients) or not 1 <= args.batch <= 1000:
        parser.error("--workers must be 1..8 (and <= --clients), --batch 1..1000")
    if not 0 <= args.interval <= 10 or not 0.1 <= args.round_timeout <= 60:
        parser.error("--interval must be 0..10 s and --round-timeout 0.1..60 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_exit()
    raise_nofile_limit(args.clients + 1024)  # the servers inherit it
    use_uvloop()
    names = ["camnet", "reference"] if args.mode == "both" else [args.mode]
    outcomes = {name: run_target(name, args) for name in names}

    print()
    print(
        f"setter -> last of {args.clients} subscribers, {args.rounds} rounds "
        f"(+{args.warmup_rounds} warm-up), one per {args.interval * 1000:g} ms"
    )
    rows = [
        [
            o.name,
            ms(o.figure(50)),
            ms(o.figure(90)),
            ms(o.figure(99)),
            ms(max(o.fanout_ms)),
            str(o.timeouts),
            f"{statistics.median(o.response_ms):.2f}",
            f"{percentile(o.response_ms, 99):.2f}",
            str(sum(o.overlapped)),
            ms(o.quiet(99)),
        ]
        for o in outcomes.values()
    ]
    headers = [
        "server",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "timeouts",
        "setter p50",
        "setter p99",
        "overlapped",
        "p99 quiet",
    ]
    print_table(headers, rows)
    print(
        "setter p50/p99: HTTP response time of the setter; overlapped: rounds during which the "
        "subscribers also got another push (camnet's once-a-second readings); p99 quiet: "
        "p99 of the other rounds"
    )
    result: dict[str, object] = {
        "benchmark": "ws_fanout",
        "clients": args.clients,
        "rounds": args.rounds,
        "interval_s": args.interval,
        "workers": args.workers,
    }
    for o in outcomes.values():
        result[o.name] = {
            "p50_ms": json_ms(o.figure(50)),
            "p90_ms": json_ms(o.figure(90)),
            "p99_ms": json_ms(o.figure(99)),
            "max_ms": json_ms(max(o.fanout_ms)),
            "timeouts": o.timeouts,
            "setter_response_p50_ms": json_ms(statistics.median(o.response_ms)),
            "setter_response_p99_ms": json_ms(percentile(o.response_ms, 99)),
            "overlapped_rounds": sum(o.overlapped),
            "p99_quiet_ms": json_ms(o.quiet(99)),
        }
    ok = True
    if "camnet" in outcomes:
        p99 = outcomes["camnet"].figure(99)
        ok = p99 <= GOAL_P99_MS
        print(f"camnet p99 {ms(p99)} ms: {'meets' if ok else 'MISSES'} the <= 25 ms goal")
        if "reference" in outcomes:
            ratio_p50 = outcomes["camnet"].figure(50) / outcomes["reference"].figure(50)
            ratio_p99 = p99 / outcomes["reference"].figure(99)
            print(f"ratio camnet/reference: p50 {ratio_p50:.2f}x, p99 {ratio_p99:.2f}x")
            result["ratio_p50"] = json_ms(ratio_p50)
            result["ratio_p99"] = json_ms(ratio_p99)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
