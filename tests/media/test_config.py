"""Stream configuration snapshots from the c2 state (pure)."""

from __future__ import annotations

from camnet.devices.profiles.c2 import c2_schema
from camnet.media.compose import pip_rect
from camnet.media.config import STREAM_VARIABLES, backup_config, live_config


def test_defaults_follow_the_c2_table() -> None:
    state = c2_schema().defaults()
    live = live_config(state)
    assert (live.width, live.height, live.fps, live.quality) == (1920, 1080, 30, 75)
    assert live.head == 0
    assert live.inset is None
    assert live.main.sensors == 2
    assert live.views[1].sensors == 1
    backup = backup_config(state)
    assert (backup.width, backup.height, backup.fps) == (1280, 720, 15)


def test_switch_pip_alignment_and_stamps() -> None:
    state = c2_schema().defaults() | {
        "cameraSwitch": True,
        "pip": 3,
        "alignmentStream1": "1",
        "recordingResolution": "4K",
        "recordingWithDateStamp": True,
        "backupWithTimeStamp": True,
    }
    live = live_config(state)
    assert live.main.head == 1
    assert live.main.rotate_180
    assert live.inset is not None
    assert live.inset.head == 0
    assert (live.width, live.height) == (3840, 2160)
    assert live.date_stamp
    assert not live.time_stamp
    backup = backup_config(state)
    assert backup.time_stamp
    assert not backup.date_stamp


def test_pip_shows_the_other_head_even_when_absent() -> None:
    """An absent head's corner shows the no-signal card; its source says when it is back."""
    state = c2_schema().defaults() | {"pip": 2, "cameraSwitch": True, "cam0Exists": False}
    inset = live_config(state).inset
    assert inset is not None
    assert inset.head == 0


def test_every_stream_variable_exists() -> None:
    schema = c2_schema()
    assert all(name in schema for name in STREAM_VARIABLES)


def test_pip_corners() -> None:
    assert pip_rect(1, 1280, 720)[:2] == (14, 14)
    x, y, w, h = pip_rect(4, 1280, 720)
    assert (x + w, y + h) == (1280 - 14, 720 - 14)
    assert (w, h) == (320, 180)
