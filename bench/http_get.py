"""Requests per second of camnet's c2 ``GET /api?get=[…]`` against a bare FastAPI route.

Why: a c2 read goes through token authentication (cached after the first check), query
parsing and a state snapshot. The goal is that all of this keeps camnet at 60 % or more of
what the same stack (FastAPI on uvicorn, uvloop, httptools, one process) manages with a
route that returns a constant, so the question is answered as a ratio measured on the
same machine in the same run, alternating A/B/A/B so that drift hits both sides.

Load comes from ``wrk`` (C, one thread: cheap enough that the single-process server is
the bottleneck on a 2-core machine). Install it with ``apt-get install -y wrk`` (Debian,
Ubuntu) or ``brew install wrk``. Without it the script falls back to a Python keep-alive
client (asyncio Protocols, no pipelining), which competes with the server for CPU and so
understates both figures; the ratio is still meaningful but less so.

Run from the repository root: ``python bench/http_get.py`` (``--help`` for the knobs).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass

from _harness import (
    Camnet,
    HttpConnection,
    ServerProcess,
    bench_script,
    install_sigterm_as_exit,
    print_table,
    python_http_load,
    taskset_prefix,
    use_uvloop,
)

WRK_HELP = "wrk not found; install it with `apt-get install -y wrk` (or `brew install wrk`)"


@dataclass
class Target:
    name: str
    base_url: str
    path: str


@dataclass
class Sample:
    target: str
    rps: float
    requests: int
    errors: int


def run_wrk(
    target: Target, duration: float, connections: int, threads: int, pin: str | None
) -> Sample:
    argv = [
        *taskset_prefix(pin),
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(duration))}s",
        "--timeout",
        "5s",
        target.base_url + target.path,
    ]
    out = subprocess.run(
        argv, capture_output=True, text=True, check=True, timeout=duration + 30
    ).stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if rps is None or total is None:
        raise RuntimeError(f"cannot parse wrk output:\n{out}")
    errors = 0
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    if non2xx:
        errors += int(non2xx.group(1))
    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out
    )
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return Sample(target.name, float(rps.group(1)), int(total.group(1)), errors)


def run_python(target: Target, duration: float, connections: int) -> Sample:
    rps, done, bad = asyncio.run(
        python_http_load(target.base_url, target.path, connections, duration)
    )
    return Sample(target.name, rps, done, bad)


async def check(target: Target) -> dict[str, object]:
    """One request first: a benchmark of 401s or 404s would be meaningless."""
    conn = await HttpConnection.open(target.base_url)
    try:
        async with asyncio.timeout(10):
            status, body = await conn.get(target.path)
    finally:
        conn.close()
    if status != 200:
        raise RuntimeError(f"{target.name}: GET {target.path} answered {status}: {body!r}")
    answer: dict[str, object] = json.loads(body)
    return answer


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before each run")
    parser.add_argument("--repeats", type=int, default=2, help="A/B pairs (camnet, bare)")
    parser.add_argument("--connections", type=int, default=50, help="keep-alive connections")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument(
        "--loadgen",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="auto: wrk when installed, else the Python client",
    )
    parser.add_argument(
        "--pin",
        action="store_true",
        help="taskset: servers on CPU 0, load generator on CPU 1 (no root needed)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 600 or not 0 <= args.warmup <= 60:
        parser.error("--duration must be 1..600 s and --warmup 0..60 s")
    if not 1 <= args.repeats <= 20 or not 1 <= args.connections <= 1000:
        parser.error("--repeats must be 1..20 and --connections 1..1000")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_exit()
    loadgen: str = args.loadgen
    if loadgen == "auto":
        loadgen = "wrk" if shutil.which("wrk") else "python"
        if loadgen == "python":
            print(f"note: {WRK_HELP}; using the Python load generator", file=sys.stderr)
    elif loadgen == "wrk" and not shutil.which("wrk"):
        print(f"error: {WRK_HELP}", file=sys.stderr)
        return 2
    if loadgen == "python":
        use_uvloop()
    server_cpu, load_cpu = ("0", "1") if args.pin else (None, None)

    def measure(target: Target, duration: float) -> Sample:
        if loadgen == "wrk":
            return run_wrk(target, duration, args.connections, args.threads, load_cpu)
        return run_python(target, duration, args.connections)

    samples: list[Sample] = []
    with ExitStack() as stack:
        camnet = stack.enter_context(Camnet(pin=server_cpu))
        bare = stack.enter_context(
            ServerProcess("reference-app", bench_script("reference_app.py", pin=server_cpu))
        )
        path = f"/api?token={camnet.token}&get=[light0,record]"
        targets = [Target("camnet", camnet.base_url, path), Target("bare", bare.base_url, path)]
        for target in targets:
            print(f"{target.name}: {target.base_url} -> {asyncio.run(check(target))}")
        print(
            f"load: {loadgen}, {args.connections} connections, {args.warmup:g} s warm-up + "
            f"{args.duration:g} s per run, {args.repeats}x A/B"
            + (", pinned (servers CPU 0, load CPU 1)" if args.pin else ""),
            flush=True,
        )
        for repeat in range(args.repeats):
            for target in targets:
                if args.warmup > 0:
                    measure(target, args.warmup)
                sample = measure(target, args.duration)
                samples.append(sample)
                print(
                    f"  run {repeat + 1} {target.name:6} {sample.rps:10.0f} req/s"
                    f"  ({sample.requests} requests, {sample.errors} errors)",
                    flush=True,
                )

    means = {
        t: statistics.fmean(s.rps for s in samples if s.target == t) for t in ("camnet", "bare")
    }
    errors = sum(s.errors for s in samples)
    ratio = means["camnet"] / means["bare"]
    print()
    rows = []
    for name in ("camnet", "bare"):
        runs = [s.rps for s in samples if s.target == name]
        rows.append([name, f"{means[name]:.0f}", f"{min(runs):.0f}", f"{max(runs):.0f}"])
    print_table(["GET /api", "mean req/s", "min", "max"], rows)
    verdict = "meets" if ratio >= 0.6 else "MISSES"
    print(f"ratio camnet/bare = {ratio:.3f} ({verdict} the >= 0.6 goal); errors: {errors}")
    result = {
        "benchmark": "http_get",
        "loadgen": loadgen,
        "connections": args.connections,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "pinned": args.pin,
        "camnet_rps": round(means["camnet"], 1),
        "bare_rps": round(means["bare"], 1),
        "ratio": round(ratio, 4),
        "runs": {n: [round(s.rps, 1) for s in samples if s.target == n] for n in means},
        "errors": errors,
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
