"""Run every benchmark (``make bench``) and repeat their figures together at the end.

Each benchmark runs in its own process, one after the other, so they never share the
machine's two cores or an event loop; their output is passed through as it comes, and
their ``RESULT`` lines are gathered into one summary ``RESULT`` line.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Sequence

from _harness import BENCH_DIR, install_sigterm_as_exit

BENCHMARKS = (
    "http_get.py",
    "ws_fanout.py",
    "mjpeg_fanout.py",
    "depth_fps.py",
    "rtsp_fanout.py",
    "webhook_delivery.py",
    "retention_decision.py",
    "recording_cpu.py",
    "capacity_calibration.py",
    "network_roundtrip.py",
    "nats_fanout.py",
    "soak.py",
)


def run(script: str, extra: Sequence[str]) -> tuple[int, dict[str, object] | None]:
    print(f"=== {script} {' '.join(extra)}".rstrip(), flush=True)
    result: dict[str, object] | None = None
    with subprocess.Popen(
        [sys.executable, str(BENCH_DIR / script), *extra],
        stdout=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        errors="replace",
    ) as process:
        assert process.stdout is not None
        try:
            for line in process.stdout:
                print(line, end="", flush=True)
                if line.startswith("RESULT "):
                    result = json.loads(line.removeprefix("RESULT "))
            code = process.wait()
        except BaseException:
            process.terminate()  # it stops the servers it started
            process.wait(30)
            raise
    print(flush=True)
    return code, result


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, for a smoke test")
    args = parser.parse_args(argv)
    install_sigterm_as_exit()
    extra = {
        "http_get.py": ["--duration", "2", "--warmup", "1", "--repeats", "1"],
        "ws_fanout.py": ["--clients", "200", "--rounds", "20"],
        "mjpeg_fanout.py": ["--viewers", "10,200", "--duration", "3", "--jpeg-requests", "20"],
        "retention_decision.py": ["--segments", "10000"],
        "recording_cpu.py": ["--duration", "3"],
        "capacity_calibration.py": ["--seconds", "10"],
        "soak.py": ["--minutes", "2"],
    }
    failed = []
    summary: dict[str, object] = {}
    for script in BENCHMARKS:
        code, result = run(script, extra.get(script, []) if args.quick else [])
        if code != 0 or result is None:
            failed.append(script)
        if result is not None:
            summary[str(result.get("benchmark", script))] = result
    print("RESULT " + json.dumps(summary), flush=True)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
