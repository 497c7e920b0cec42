"""The pure parts: retention decisions, capacity arithmetic, names, record transitions."""

from __future__ import annotations

import pytest

from camnet.faces.gallery import parse_range
from camnet.recording import capacity, names, retention, tags
from camnet.recording.state_machine import IllegalTransition, RecordState, transition


def segments(
    count: int, size: int = 1000, seconds: float = 60, tagged: frozenset[int] = frozenset()
) -> list[retention.Segment]:
    return [
        retention.Segment(i, i * seconds, (i + 1) * seconds, size, i in tagged)
        for i in range(count)
    ]


def test_oldest_untagged_go_first_until_an_hour_is_left() -> None:
    policy = retention.Policy(bytes_per_second=1.0)  # one hour = 3600 bytes
    decision = retention.decide(segments(10, tagged=frozenset({0, 2})), 1600, policy)
    assert decision.delete == (1, 3)
    assert decision.enough


def test_tagged_segments_are_never_deleted_even_when_short() -> None:
    policy = retention.Policy(bytes_per_second=1.0)
    decision = retention.decide(segments(3, tagged=frozenset({0, 1, 2})), 0, policy)
    assert decision.delete == ()
    assert not decision.enough


def test_nothing_deleted_while_an_hour_is_free() -> None:
    decision = retention.decide(segments(5), 3600, retention.Policy(bytes_per_second=1.0))
    assert decision.delete == ()
    assert decision.enough


def test_maximum_hours_rule_applies_only_without_complete_space() -> None:
    items = segments(10, seconds=900, tagged=frozenset({1}))  # 2.5 h recorded
    limited = retention.Policy(1.0, use_complete_space=False, max_hours=1)
    assert retention.decide(items, 10**9, limited).delete == (0, 2, 3, 4, 5, 6)
    complete = retention.Policy(1.0, use_complete_space=True, max_hours=1)
    assert retention.decide(items, 10**9, complete).delete == ()


def test_is_tagged_uses_the_segment_bounds() -> None:
    times = [10.0, 50.0]
    assert retention.is_tagged(0, 10, times)
    assert not retention.is_tagged(11, 49.9, times)
    assert retention.is_tagged(50, 60, times)


def test_seed_capacity_example_within_five_percent() -> None:
    rate = capacity.rate(capacity.Settings(1280, 720, 30, 75), {})
    seconds = capacity.seconds_for(60_118_794_240, rate)
    assert abs(seconds - 14_313) / 14_313 < 0.05


def test_calibration_from_written_bytes_takes_over_the_model() -> None:
    hd = capacity.Settings(1280, 720, 30, 75)
    observed = capacity.Observation(0, 0).add(3_000_000, 60)
    assert capacity.rate(hd, {hd: observed}) == pytest.approx(50_000)
    half_rate = capacity.Settings(1280, 720, 15, 75)
    assert capacity.rate(half_rate, {hd: observed}) == pytest.approx(25_000)


def test_capacity_variables_in_the_seed_forms() -> None:
    values = capacity.BackupCapacity(14_313, 3600, 7200).variables()
    assert values["backupRemainingCapacity"] == "3:58h"
    assert values["backupRemainingCapacitySeconds"] == "14313"
    assert values["backupRemainingCapacityHours"] == "3.98"
    assert values["storageBackupCapacity"] == "4:58h"
    assert values["backupFileCapacity"] == "1:00h"
    assert values["backupStoredFileDuration"] == "2:00h"


@pytest.mark.parametrize(
    "value", ["../x", "a/b", "a\\b", "..", "x\x00y", "x\ny", ".hidden", "a" * 65, "\x7f"]
)
def test_name_problems(value: str) -> None:
    assert names.problem(value) is not None


def test_file_name_is_always_a_bare_name() -> None:
    name = names.file_name("../../etc/passwd", 0, "a/b", "mkv")
    assert "/" not in name
    assert ".." not in name
    assert names.file_name("cell", 0, "", "jpg") == "cell_1970-01-01T00-00-00.000Z.jpg"


def test_record_transitions() -> None:
    assert transition(RecordState.STOP, RecordState.START) is RecordState.START
    assert transition(RecordState.START, RecordState.PAUSE) is RecordState.PAUSE
    assert transition(RecordState.PAUSE, RecordState.RELEASE) is RecordState.RELEASE
    assert transition(RecordState.RELEASE, RecordState.STOP) is RecordState.STOP
    with pytest.raises(IllegalTransition):
        transition(RecordState.STOP, RecordState.PAUSE)
    with pytest.raises(IllegalTransition):
        transition(RecordState.START, RecordState.RELEASE)


def test_tag_times() -> None:
    assert tags.parse_time(12) == 12.0
    assert tags.parse_time("1970-01-01T01:00:10+01:00") == 10.0
    with pytest.raises(tags.TagError):
        tags.parse_time("yesterday")
    with pytest.raises(tags.TagError):
        tags.parse_time("2024-01-01T00:00:00")
    # Found by schemathesis: a time no date can show was a 500 when the tag was shown.
    assert tags.parse_time(tags.LATEST) == tags.LATEST
    for unshowable in (7.3e224, float("nan"), float("inf"), "9999-12-31T23:59:59-14:00", -1):
        with pytest.raises(tags.TagError):
            tags.parse_time(unshowable)


def test_ranges() -> None:
    assert parse_range("bytes=0-99", 1000) == (0, 99)
    assert parse_range("bytes=900-", 1000) == (900, 999)
    assert parse_range("bytes=-100", 1000) == (900, 999)
    assert parse_range("bytes=990-2000", 1000) == (990, 999)
    assert parse_range("bytes=1000-", 1000) is None
    assert parse_range("items=0-1", 1000) is None
