"""Depth frames per second on one core: camnet's depth (the pair through the sensor
pipeline, then semi-global matching) against plain ``cv2.StereoBM`` on the same pair
in the same run, at 640×400 and 1280×800; and the accuracy of both against the
simulated scene's ground-truth disparity.

    .venv/bin/python bench/depth_fps.py [--seconds 5]

Prints a table and one ``RESULT {json}`` line.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable

import cv2
import numpy as np

from camnet.devices.profiles.stereo import OAK_D_LIKE, stereo_schema
from camnet.devices.stereo.scene import StereoGeometry
from camnet.devices.stereo.source import SimulatedStereoSource
from camnet.media import depth
from camnet.media.sensor_streams import Frames, snapshot

SIZES = ((640, 400), (1280, 800))


def rate(work: Callable[[], object], seconds: float) -> float:
    work()  # warm caches
    count, start = 0, time.monotonic()
    while time.monotonic() - start < seconds:
        work()
        count += 1
    return count / (time.monotonic() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    source = SimulatedStereoSource(StereoGeometry())
    frames = Frames(source)
    spec = OAK_D_LIKE.stream("DEPTH_B_C")
    assert spec is not None
    results: dict[str, dict[str, float]] = {}
    print(
        f"{'size':>10} {'camnet fps':>11} {'StereoBM fps':>13} {'ratio':>6} "
        f"{'valid %':>8} {'<=1px %':>8} {'BM valid %':>10} {'BM <=1px %':>10}"
    )
    for width, height in SIZES:
        state = dict(stereo_schema().defaults())
        state["DEPTH_B_C_resolution"] = [width, height]
        snap = snapshot(state, spec)
        matcher = depth.DepthMatcher()
        truth = source.ground_truth(width, height)
        ours = rate(lambda: frames.depth(snap, matcher), args.seconds)  # noqa: B023
        result = frames.depth(snap, matcher)
        figures = depth.accuracy(result, truth)
        # the reference: the same pair (same margin), plain block matching
        margin = depth.margin_for(width)
        raw_l = source.capture("CAM_B", width, height, margin=margin)
        raw_r = source.capture("CAM_C", width, height, margin=margin)
        pair = [np.clip(raw, 0, 255).astype(np.uint8) for raw in (raw_l, raw_r)]
        bm = cv2.StereoBM.create(numDisparities=depth.disparities_for(width), blockSize=15)

        def reference() -> depth.DepthResult:
            raw = bm.compute(pair[0], pair[1])  # noqa: B023
            d = raw[:, margin:].astype(np.float32) / 16.0  # noqa: B023
            d[d <= 0] = 0
            return depth.DepthResult(d, depth.disparities_for(width))  # noqa: B023

        theirs = rate(reference, args.seconds)
        bm_figures = depth.accuracy(reference(), truth)
        key = f"{width}x{height}"
        results[key] = {
            "fps": round(ours, 2),
            "stereobm_fps": round(theirs, 2),
            "ratio": round(ours / theirs, 3),
            "valid": round(figures.valid * 100, 2),
            "within_1px": round(figures.within_one * 100, 2),
            "mean_error_px": round(figures.mean_error, 3),
            "stereobm_valid": round(bm_figures.valid * 100, 2),
            "stereobm_within_1px": round(bm_figures.within_one * 100, 2),
        }
        r = results[key]
        print(
            f"{key:>10} {r['fps']:>11} {r['stereobm_fps']:>13} {r['ratio']:>6} "
            f"{r['valid']:>8} {r['within_1px']:>8} {r['stereobm_valid']:>10} "
            f"{r['stereobm_within_1px']:>10}",
            flush=True,
        )
    print("RESULT " + json.dumps({"depth_fps": results}), flush=True)


if __name__ == "__main__":
    main()
