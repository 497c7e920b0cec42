"""The dashboard's reading history: which variables, how values are read, the window."""

from __future__ import annotations

from camnet.bus.local import LocalBus
from camnet.clock import ManualClock
from camnet.devices.history import ReadingHistory, reading, tracked_variables
from camnet.devices.profiles.c2 import c2_schema


def test_readings_are_numbers_out_of_the_c2_text_forms() -> None:
    assert reading("40.5°C") == 40.5
    assert reading("1150mbar") == 1150.0
    assert reading("1:05h") == 3900.0
    assert reading({"used": 2048, "total": 4096}) == 2048.0
    assert reading(True) is None
    assert reading("idle") is None


def test_tracked_variables_come_from_the_schema_units() -> None:
    tracked = tracked_variables(c2_schema())
    assert {n for n, t in tracked.items() if t.kind == "temperature"} == {
        "oct0",
        "oct1",
        "fpgaTemp",
    }
    assert {"psi0", "psi1"} <= {n for n, t in tracked.items() if t.kind == "pressure"}
    assert tracked["backupStorage"].kind == "storage"
    assert "light0" not in tracked


def test_one_point_per_step_for_one_hour() -> None:
    clock = ManualClock(start=10_000.0)
    history = ReadingHistory(LocalBus("m"), clock, window=60.0, resolution=5.0)
    history.track("m-C2", c2_schema())
    for second in range(0, 120):
        history.record("m-C2", "oct0", f"{second}.0°C", 10_000.0 + second)
    history.record("m-C2", "light0", True, 10_119.0)  # not tracked: ignored
    clock.advance(119.0)
    series = history.snapshot()["series"]
    assert isinstance(series, list)
    assert len(series) == 1
    points = series[0]["points"]
    # The last minute, one point per 5 s step, each the newest value of its step.
    assert points[-1] == [10_119.0, 119.0]
    assert points[0][0] >= 10_119.0 - 60.0
    assert len(points) == 13
    later = history.snapshot(since=10_110.0)["series"]
    assert isinstance(later, list)
    assert later[0]["points"][0][0] >= 10_110.0
