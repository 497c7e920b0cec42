"""The gap-aware journal cursor, from plain ids and times (no database)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from camnet.store.gaps import GapCursor

SETTLE = 10.0


def test_contiguous_ids_move_the_position_to_the_last() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 2, 3], now=0.0)
    assert cursor.position == 3
    assert cursor.handled == set()
    assert cursor.gaps == []


def test_a_missing_id_holds_the_position_but_not_the_ids_above_it() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 2, 4, 5], now=0.0)
    assert cursor.position == 2
    assert cursor.handled == {4, 5}
    assert [(g.low, g.high) for g in cursor.gaps] == [(3, 3)]
    # 4 and 5 were handled: a later read that returns them again has nothing fresh
    assert cursor.fresh([4, 5, 6]) == [6]


def test_the_late_id_fills_the_gap_and_the_position_jumps() -> None:
    first = GapCursor(SETTLE).advance(0, [1, 2, 4, 5], now=0.0)
    second = first.advance(first.position, [3], now=1.0)
    assert second.position == 5
    assert second.handled == set()
    assert second.gaps == []


def test_a_gap_is_passed_only_after_the_settle_time() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 3], now=100.0)
    assert cursor.advance(cursor.position, [], now=109.9).position == 1
    assert cursor.advance(cursor.position, [], now=110.0).position == 3


def test_a_gap_keeps_the_time_it_was_first_seen_when_part_of_it_fills() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 5], now=0.0)  # 2..4 missing since 0
    later = cursor.advance(cursor.position, [3], now=6.0)  # 3 came; 2 and 4 still missing
    assert later.position == 1
    assert sorted((g.low, g.high, g.since) for g in later.gaps) == [(2, 2, 0.0), (4, 4, 0.0)]
    assert later.advance(later.position, [], now=10.0).position == 5


def test_a_huge_jump_in_the_sequence_is_one_gap() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 10_000_000], now=0.0)
    assert [(g.low, g.high) for g in cursor.gaps] == [(2, 9_999_999)]
    assert cursor.advance(cursor.position, [], now=SETTLE).position == 10_000_000


def test_the_stored_position_moved_by_another_node_is_respected() -> None:
    cursor = GapCursor(SETTLE).advance(0, [1, 3], now=0.0)
    # another node passed the gap meanwhile: its stored position is 7
    moved = cursor.advance(7, [8], now=1.0)
    assert moved.position == 8
    assert moved.gaps == []


@given(
    order=st.permutations(list(range(1, 30))),
    cut=st.integers(min_value=0, max_value=29),
)
def test_no_id_is_skipped_whatever_the_commit_order(order: list[int], cut: int) -> None:
    """Ids become visible in any order; each read sees the visible ids after the
    position. Every id is handled exactly once, and the position never passes an id
    that is not visible yet (before the settle time)."""
    cursor = GapCursor(SETTLE)
    handled: list[int] = []
    visible: set[int] = set()
    for step, id_ in enumerate([*order[cut:], *order[:cut]]):
        visible.add(id_)
        read = sorted(i for i in visible if i > cursor.position)
        handled.extend(cursor.fresh(read))
        cursor = cursor.advance(cursor.position, read, now=float(step) * 0.01)
        assert all(i in visible for i in range(1, cursor.position + 1))
    assert sorted(handled) == list(range(1, 30))
    assert cursor.position == 29
