"""CPU and memory of the Visual Backup pre-roll on an otherwise idle server.

Why: with ``backup_preroll_seconds`` > 0 the backup stream is captured and encoded while
Visual Backup is off (so a tag made "now" lies inside the first segment). This measures
what that costs. The reference is the same server with ``backup_preroll_seconds=0``
(nothing captured while nobody consumes), started in the same run just before.

How: for each setting one camnet server (subprocess, fresh data directory, the default
backup stream HD 1280×720, 15 fps, quality 75) idles for a warm-up, then CPU
(utime+stime from /proc/PID/stat, all threads, % of one core) and RSS are read over a
window; the backup hub's published-frame counter shows whether it captured.

Run from the repository root: ``python bench/preroll_cpu.py [--duration 15]``.
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from _harness import Camnet, install_sigterm_as_exit
from mjpeg_fanout import cpu_seconds, get_json, rss_mib


def idle_window(preroll: str, args: argparse.Namespace) -> dict[str, Any]:
    os.environ["CAMNET_BACKUP_PREROLL_SECONDS"] = preroll
    with Camnet() as camnet:
        assert camnet.server is not None
        pid = camnet.server.pid
        status = f"{camnet.base_url}/media/status?token={camnet.token}"
        time.sleep(args.warmup)
        before = get_json(status)["streams"]["backup"]["published"]
        cpu0, wall0 = cpu_seconds(pid), time.monotonic()
        time.sleep(args.duration)
        cpu1, wall1 = cpu_seconds(pid), time.monotonic()
        after = get_json(status)["streams"]["backup"]["published"]
        return {
            "backup_preroll_seconds": float(preroll),
            "cpu_percent": round(100 * (cpu1 - cpu0) / (wall1 - wall0), 1),
            "rss_mib": round(rss_mib(pid), 1),
            "backup_frames_per_s": round((after - before) / (wall1 - wall0), 1),
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    args = parser.parse_args(argv)
    install_sigterm_as_exit()
    reference = idle_window("0", args)
    print(f"  no pre-roll: {json.dumps(reference)}", flush=True)
    preroll = idle_window("2", args)
    print(f"  2 s pre-roll: {json.dumps(preroll)}", flush=True)
    result = {
        "benchmark": "preroll_cpu",
        "reference": reference,
        "preroll": preroll,
        "cpu_cost_percent": round(preroll["cpu_percent"] - reference["cpu_percent"], 1),
        "rss_cost_mib": round(preroll["rss_mib"] - reference["rss_mib"], 1),
    }
    print("RESULT " + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
