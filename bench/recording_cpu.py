"""CPU of recording a 1920×1080 30 fps stream while 10 MJPEG viewers watch.

Why: the recorder muxes the live pipeline's JPEGs into Matroska without re-encoding, so
recording should cost little beyond the stream the viewers already cause. The reference
is the same server, stream and 10 viewers *without* recording, measured in the same run
just before; the figure is the ratio (and the difference in % of one core).

How: one camnet server (subprocess, fresh data directory) is set to
``recordingResolution=FullHD``, ``recordingFps=30`` through ``/api``; 10 raw viewers
(``_mjpeg_worker.py``) read ``/camera.mjpeg``. Window 1: no recording. Then
``record=start``; after a warm-up, window 2; ``record=stop``. CPU is utime+stime of the
server process from /proc/PID/stat (all threads), % of one core; it also reports the
viewers' fps and the bytes the recording wrote (to show it really recorded).

Run from the repository root: ``python bench/recording_cpu.py [--duration 15]``.
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from _harness import Camnet, install_sigterm_as_exit
from mjpeg_fanout import Target, Worker, get_json, measure_window

VIEWERS = 10


def mkv_bytes(directory: Path) -> int:
    return sum(path.stat().st_size for path in directory.rglob("*.mkv"))


async def measure(camnet: Camnet, data_dir: Path, args: argparse.Namespace) -> dict[str, Any]:
    base, token = camnet.base_url, camnet.token
    get_json(f"{base}/api?token={token}&recordingResolution=FullHD&recordingFps=30")
    assert camnet.server is not None
    target = Target("camnet", f"{base}/camera.mjpeg?token={token}", camnet.server.pid)
    worker = await Worker.start(target.stream_url, VIEWERS, VIEWERS)
    try:
        ready = int(await worker.expect("ready", timeout=120))
        if ready != VIEWERS:
            raise RuntimeError(f"only {ready} of {VIEWERS} viewers connected")
        await asyncio.sleep(args.warmup)
        idle = await measure_window(target, [worker], args.duration)
        print(f"  10 viewers, not recording: {json.dumps(idle.summary())}", flush=True)
        state = get_json(f"{base}/api?token={token}&record=start")
        started = time.monotonic()
        await asyncio.sleep(args.warmup)
        written0 = mkv_bytes(data_dir)
        recording = await measure_window(target, [worker], args.duration)
        written1 = mkv_bytes(data_dir)
        record = get_json(f"{base}/api?token={token}")
        get_json(f"{base}/api?token={token}&record=stop")
        print(f"  10 viewers, recording:     {json.dumps(recording.summary())}", flush=True)
    finally:
        await worker.stop()
    return {
        "benchmark": "recording_cpu",
        "resolution": "1920x1080",
        "fps": 30,
        "viewers": VIEWERS,
        "duration_s": args.duration,
        "record_answer": state.get("record", state),
        "record_state_during": record.get("record"),
        "recorded_s": round(time.monotonic() - started, 1),
        "bytes_written_in_window": written1 - written0,
        "cpu_percent_viewers_only": round(idle.cpu_percent, 1),
        "cpu_percent_viewers_and_recording": round(recording.cpu_percent, 1),
        "recording_cost_percent": round(recording.cpu_percent - idle.cpu_percent, 1),
        "ratio": round(recording.cpu_percent / idle.cpu_percent, 2),
        "fps_min_viewers_only": round(min(idle.fps), 1),
        "fps_min_recording": round(min(recording.fps), 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    args = parser.parse_args(argv)
    install_sigterm_as_exit()
    with Camnet() as camnet:
        assert camnet._tmp is not None
        result = asyncio.run(measure(camnet, Path(camnet._tmp.name), args))
    for key, value in result.items():
        print(f"{key:>36}: {value}")
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if result["record_state_during"] == "start" else 1


if __name__ == "__main__":
    raise SystemExit(main())
