"""Capacity calibration: bytes camnet writes in 60 s at HD/30/75 vs the model's prediction.

Why: the Visual Backup's capacity (seconds that fit into free bytes) comes from a rate
in bytes per second, calibrated from the bytes camnet's own recordings wrote (every
closed segment adds to the calibration of its settings). The issue asks the prediction
for a 60 s recording at 1280×720, 30 fps, quality 75 to be within 15 % of what camnet
then actually writes.

How: a camnet server (subprocess, fresh data directory, simulated camera scene) is set
through ``/api`` to ``recordingResolution=HD``, ``recordingFps=30``,
``recordingPictureQuality=75``. A first recording (20 s) calibrates; the rate camnet's
capacity then uses is read from its calibration table; the next recording of 60 s
(monotonic) is the one predicted. Written bytes are the sizes of its .mkv files; its
duration is read back from the files with PyAV. The uncalibrated model (the seed's
constant, used only before anything was recorded) is printed for comparison.
Run from the repository root: ``python bench/capacity_calibration.py``.
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from _harness import Camnet, install_sigterm_as_exit
from camnet.recording import capacity, index
from camnet.recording.segments import probe
from camnet.store.database import Database
from mjpeg_fanout import get_json

SETTINGS = capacity.Settings(1280, 720, 30, 75)


def _record(base: str, token: str, seconds: float) -> tuple[dict[str, object], float]:
    answer = get_json(f"{base}/api?token={token}&record=start")
    began = time.monotonic()
    time.sleep(seconds)
    get_json(f"{base}/api?token={token}&record=stop")
    wall = time.monotonic() - began
    time.sleep(2.0)  # the last segment is closed, indexed and calibrated
    return answer, wall


def _written(files: Sequence[Path]) -> tuple[int, float, int]:
    """Bytes, recorded seconds (from the files) and frames of these recordings."""
    probes = [probe(path) for path in files]
    recorded = sum(p.duration + 1 / SETTINGS.fps for p in probes if p.frames)
    return sum(path.stat().st_size for path in files), recorded, sum(p.frames for p in probes)


def _calibrated_rate(data_dir: Path) -> float:
    """The rate camnet's capacity uses now: from its own calibration table."""
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    try:
        with database.engine.connect() as connection:
            calibration = index.load_calibration(connection)
    finally:
        database.close()
    return capacity.rate(SETTINGS, calibration)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--calibration-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    install_sigterm_as_exit()
    with Camnet() as camnet:
        assert camnet._tmp is not None
        data_dir = Path(camnet._tmp.name)
        base, token = camnet.base_url, camnet.token
        get_json(f"{base}/api?token={token}&recordingResolution=HD&recordingFps=30")
        get_json(f"{base}/api?token={token}&recordingPictureQuality=75")
        time.sleep(2.0)  # the live pipeline follows the new settings
        # 1. An earlier recording calibrates the rate (as any recording on the node does).
        _record(base, token, args.calibration_seconds)
        earlier = set(data_dir.rglob("*.mkv"))
        rate = _calibrated_rate(data_dir)
        # 2. The prediction for the next recording, then that recording.
        answer, wall = _record(base, token, args.seconds)
        files = sorted(set(data_dir.rglob("*.mkv")) - earlier)
        written, recorded, frames = _written(files)
    model = capacity.model_rate(SETTINGS)
    predicted = rate * recorded
    result = {
        "benchmark": "capacity_calibration",
        "settings": SETTINGS.key(),
        "record_answer": answer.get("record", answer),
        "calibration_recording_s": args.calibration_seconds,
        "files": len(files),
        "wall_s": round(wall, 1),
        "recorded_s": round(recorded, 2),
        "frames": frames,
        "written_bytes": written,
        "measured_bytes_per_s": round(written / recorded) if recorded else None,
        "calibrated_bytes_per_s": round(rate),
        "predicted_bytes_for_recorded_s": round(predicted),
        "error_percent": round((predicted - written) / written * 100, 1) if written else None,
        "uncalibrated_model_bytes_per_s": round(model),
        "uncalibrated_error_percent": (
            round((model * recorded - written) / written * 100, 1) if written else None
        ),
        "seed_example_seconds_uncalibrated": capacity.seconds_for(60_118_794_240, model),
    }
    for key, value in result.items():
        print(f"{key:>36}: {value}")
    print("RESULT " + json.dumps(result), flush=True)
    return 0 if written else 1


if __name__ == "__main__":
    raise SystemExit(main())
