"""Topic filters and their wildcards."""

from __future__ import annotations

import pytest

from camnet.bus.filters import TopicFilter, name_matches
from camnet.bus.message import MessageType, Topic


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("State.light0", "State.light0", True),
        ("State.*", "State.light0", True),
        ("State.*", "State", False),
        ("State.*", "State.pan0.x", False),
        ("State.>", "State.pan0.x", True),
        ("State.>", "State", False),
        ("*.light0", "State.light0", True),
        (">", "anything.at.all", True),
        ("State.light0", "State.light1", False),
    ],
)
def test_name_patterns(pattern: str, name: str, expected: bool) -> None:
    assert name_matches(pattern, name) is expected


def test_filter_fields_combine() -> None:
    topic = Topic(MessageType.UPDATE, source="m-C2", name="State.light0")
    assert TopicFilter().matches(topic)
    assert TopicFilter(type=MessageType.UPDATE, source="m-C2", name="State.*").matches(topic)
    assert not TopicFilter(type=MessageType.GET).matches(topic)
    assert not TopicFilter(source="m-Other").matches(topic)
    assert not TopicFilter(target="m-C2").matches(topic)
