"""Subjects derived from topics: reversible tokens, patterns that carry what filters match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from camnet.bus.filters import TopicFilter, name_matches
from camnet.bus.message import MessageType, Topic
from camnet.bus.subjects import escape_token, pattern_of, subject_of, unescape_token


@given(st.text())
def test_tokens_round_trip_and_hold_no_subject_syntax(value: str) -> None:
    token = escape_token(value)
    assert unescape_token(token) == value
    assert token
    assert not set(token) & {".", "*", ">", " ", "\t", "\r", "\n"}


def _subject_matches(pattern: str, subject: str) -> bool:
    # NATS semantics are the same as the name rules: * one token, trailing > the rest.
    return name_matches(pattern, subject)


def test_a_subject_is_root_type_target_source_and_the_name_segments() -> None:
    topic = Topic(MessageType.UPDATE, target="BROADCAST", source="cell3-C2", name="State.light0")
    assert subject_of(topic) == "camnet.Update.BROADCAST.cell3-C2.State.light0"


@given(
    st.sampled_from(list(MessageType)),
    st.text(max_size=8),
    st.text(max_size=8),
    st.lists(st.text(alphabet="abc.~ ", min_size=1, max_size=4), max_size=3),
    st.booleans(),
    st.booleans(),
    st.sampled_from([None, "*", ">", "State.*", "State.>", "State.light0", "*.light0"]),
)
def test_every_topic_a_filter_matches_is_on_a_subject_its_pattern_carries(
    message_type: MessageType,
    target: str,
    source: str,
    name_parts: list[str],
    pin_target: bool,
    pin_source: bool,
    name_pattern: str | None,
) -> None:
    name = ".".join(part.replace(".", "") or "x" for part in name_parts)
    topic = Topic(message_type, target=target, source=source, name=name)
    topic_filter = TopicFilter(
        type=message_type,
        target=target if pin_target else None,
        source=source if pin_source else None,
        name=name_pattern,
    )
    if topic_filter.matches(topic):
        assert _subject_matches(pattern_of(topic_filter), subject_of(topic))


def test_a_pattern_pins_what_the_filter_pins() -> None:
    pattern = pattern_of(TopicFilter(type=MessageType.GET, target="m-C2", name="State.*"))
    assert pattern == "camnet.Get.m-C2.*.State.*"
    assert not _subject_matches(
        pattern, subject_of(Topic(MessageType.GET, target="m-Store", name="State.x"))
    )
