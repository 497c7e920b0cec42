"""The pre-roll window from plain inputs: bounded by seconds and bytes, held for a tag,
started over when the picture settings change."""

from __future__ import annotations

from camnet.recording.capacity import Settings
from camnet.recording.preroll import PrerollFrame, PrerollRing

HD = Settings(1280, 720, 15, 75)


def frame(sequence: int, captured: float, size: int = 100, settings: Settings = HD) -> PrerollFrame:
    return PrerollFrame(sequence, b"x" * size, captured, settings)


def test_keeps_only_the_last_seconds() -> None:
    ring = PrerollRing(seconds=2.0)
    for i in range(100):
        ring.add(frame(i, i * 0.1))
    assert ring.oldest is not None
    assert 9.9 - ring.oldest <= 2.0
    assert len(ring.frames) == 21
    assert ring.bytes == 21 * 100


def test_never_holds_more_than_its_bytes() -> None:
    ring = PrerollRing(seconds=30.0, max_bytes=1000)
    for i in range(50):
        ring.add(frame(i, i * 0.1, size=300))
    assert ring.bytes <= 1000
    assert [f.sequence for f in ring.frames] == [47, 48, 49]


def test_a_hold_stops_the_window_from_sliding_until_taken() -> None:
    ring = PrerollRing(seconds=1.0)
    for i in range(10):
        ring.add(frame(i, i * 0.1))
    ring.hold()
    for i in range(10, 60):
        ring.add(frame(i, i * 0.1))
    assert ring.frames[0].sequence == 0  # the moment of the hold is still inside
    taken = ring.take()
    assert [f.sequence for f in taken] == list(range(60))
    assert not ring.held
    assert ring.bytes == 0
    assert ring.oldest is None


def test_release_lets_the_window_slide_again() -> None:
    ring = PrerollRing(seconds=1.0)
    ring.hold()
    for i in range(30):
        ring.add(frame(i, i * 0.1))
    ring.release()
    assert ring.oldest is not None
    assert 2.9 - ring.oldest <= 1.0


def test_new_settings_start_over() -> None:
    ring = PrerollRing(seconds=5.0)
    ring.add(frame(1, 0.0))
    ring.add(frame(2, 0.1, settings=Settings(1920, 1080, 15, 75)))
    assert [f.sequence for f in ring.frames] == [2]
    assert ring.bytes == 100
