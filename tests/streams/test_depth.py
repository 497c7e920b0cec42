"""Depth accuracy against the simulated scene's ground truth (sans I/O)."""

from __future__ import annotations

import pytest

from camnet.devices.profiles.stereo import OAK_D_LIKE, stereo_schema
from camnet.devices.stereo.scene import StereoGeometry
from camnet.devices.stereo.source import SimulatedStereoSource
from camnet.media import depth
from camnet.media.sensor_streams import Frames, snapshot


def test_depth_matches_ground_truth_at_640x400() -> None:
    source = SimulatedStereoSource(StereoGeometry())
    spec = OAK_D_LIKE.stream("DEPTH_B_C")
    assert spec is not None
    state = stereo_schema().defaults()
    result = Frames(source).depth(snapshot(state, spec), depth.DepthMatcher())
    figures = depth.accuracy(result, source.ground_truth(640, 400))
    assert figures.valid >= 0.90
    assert figures.within_one >= 0.95


def test_underexposed_pair_gives_less_depth() -> None:
    """The pair's controls act on depth too: a black pair has nothing to match."""
    source = SimulatedStereoSource(StereoGeometry())
    spec = OAK_D_LIKE.stream("DEPTH_B_C")
    assert spec is not None
    state = dict(stereo_schema().defaults())
    for sensor in ("CAM_B", "CAM_C"):
        state[f"{sensor}_auto_exposure_enable"] = False
        state[f"{sensor}_exposure_time"] = 1
    result = Frames(source).depth(snapshot(state, spec), depth.DepthMatcher())
    assert depth.accuracy(result, source.ground_truth(640, 400)).valid < 0.5


@pytest.mark.parametrize(("width", "expected"), [(640, 64), (1280, 128), (320, 32)])
def test_search_range_follows_width(width: int, expected: int) -> None:
    assert depth.disparities_for(width) == expected
