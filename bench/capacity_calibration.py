"""Capacity calibration: bytes camnet writes in 60 s at HD/30/75 vs the model's prediction.

Why: the Visual Backup's capacity (seconds that fit into free bytes) comes from a rate
in bytes per second. Once camnet has recorded at some settings it uses its own measured
rate; *before* that it has only the model (``capacity.model_rate``). The issue asks the
model's prediction for a 60 s recording at 1280×720, 30 fps, quality 75 to be within
15 % of what camnet actually writes.

How: a camnet server (subprocess, fresh data directory, simulated camera scene) is set
through ``/api`` to ``recordingResolution=HD``, ``recordingFps=30``,
``recordingPictureQuality=75``; ``record=start``, 60 s (monotonic), ``record=stop``. The
written bytes are the sizes of the .mkv files; the recorded duration is read back from
the files with PyAV. The prediction is the model's rate times that duration (and times
60 s nominal). Run from the repository root: ``python bench/capacity_calibration.py``.
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from _harness import Camnet, install_sigterm_as_exit
from camnet.recording import capacity
from camnet.recording.segments import probe
from mjpeg_fanout import get_json

SETTINGS = capacity.Settings(1280, 720, 30, 75)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args(argv)
    install_sigterm_as_exit()
    with Camnet() as camnet:
        assert camnet._tmp is not None
        data_dir = Path(camnet._tmp.name)
        base, token = camnet.base_url, camnet.token
        get_json(f"{base}/api?token={token}&recordingResolution=HD&recordingFps=30")
        get_json(f"{base}/api?token={token}&recordingPictureQuality=75")
        time.sleep(2.0)  # the live pipeline follows the new settings
        answer = get_json(f"{base}/api?token={token}&record=start")
        began = time.monotonic()
        time.sleep(args.seconds)
        get_json(f"{base}/api?token={token}&record=stop")
        wall = time.monotonic() - began
        time.sleep(2.0)  # the segment is closed and indexed
        files = sorted(data_dir.rglob("*.mkv"))
        written = sum(path.stat().st_size for path in files)
        probes = [probe(path) for path in files]
    recorded = sum(p.duration + 1 / SETTINGS.fps for p in probes if p.frames)
    frames = sum(p.frames for p in probes)
    rate = capacity.model_rate(SETTINGS)
    predicted = rate * recorded
    result = {
        "benchmark": "capacity_calibration",
        "settings": SETTINGS.key(),
        "record_answer": answer.get("record", answer),
        "files": len(files),
        "wall_s": round(wall, 1),
        "recorded_s": round(recorded, 2),
        "frames": frames,
        "written_bytes": written,
        "measured_bytes_per_s": round(written / recorded) if recorded else None,
        "model_bytes_per_s": round(rate),
        "predicted_bytes_for_recorded_s": round(predicted),
        "predicted_bytes_for_60_s": round(rate * 60),
        "error_percent": round((predicted - written) / written * 100, 1) if written else None,
        "seed_example_seconds": capacity.seconds_for(60_118_794_240, rate),
    }
    for key, value in result.items():
        print(f"{key:>32}: {value}")
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
