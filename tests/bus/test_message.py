"""The message model and its JSON codec."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camnet.bus.message import (
    BROADCAST,
    Envelope,
    Message,
    MessageError,
    MessageType,
    Topic,
    service_name,
    state_name,
    update,
    variable_of,
)


def test_names() -> None:
    assert service_name("cell3", "C2") == "cell3-C2"
    assert state_name("light0") == "State.light0"
    assert variable_of("State.light0") == "light0"
    assert variable_of("State") is None
    assert variable_of("State.pan0.x") is None
    assert variable_of("Other.light0") is None


def test_update_wire_form_is_compact_json_with_the_seed_keys() -> None:
    frames = update("cell3-C2", "light0", True).encode()
    assert json.loads(frames[0]) == {
        "Type": "Update",
        "Target": BROADCAST,
        "Source": "cell3-C2",
        "Name": "State.light0",
    }
    assert frames[1] == b'{"Value":true}'
    assert len(frames) == 2


def test_attachment_is_the_third_frame() -> None:
    envelope = Envelope(
        Topic(MessageType.UPDATE, source="a-B", name="Frame"),
        Message(value={"w": 1}),
        attachment=b"\xff\xd8jpeg",
    )
    frames = envelope.encode()
    assert frames[2] == b"\xff\xd8jpeg"
    assert Envelope.decode(frames) == envelope


topics = st.builds(
    Topic,
    type=st.sampled_from(list(MessageType)),
    target=st.text(min_size=1, max_size=20),
    source=st.text(max_size=20),
    name=st.text(max_size=30),
    respond_to=st.text(max_size=20),
    method=st.text(max_size=10),
    id=st.text(max_size=10),
    executed_on=st.text(max_size=10),
)
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@given(topic=topics, value=json_values)
def test_round_trip(topic: Topic, value: object) -> None:
    envelope = Envelope(topic, Message(value=value))
    assert Envelope.decode(envelope.encode()) == envelope


@pytest.mark.parametrize(
    ("frames", "reason"),
    [
        ([b"{}"], "expected 2 or 3 frames"),
        ([b"not json", b"{}"], "not JSON"),
        ([b"{}", b"{}"], "no Type"),
        ([b'{"Type":"Shout"}', b"{}"], "unknown Type"),
        ([b'{"Type":"Get","Target":5}', b"{}"], "must be a string"),
        ([b'{"Type":"Get","Colour":"red"}', b"{}"], "unknown topic fields"),
        ([b'{"Type":"Get"}', b"[]"], "message must be a JSON object"),
        ([b'{"Type":"Get"}', b'{"Valeu":1}'], "unknown message fields"),
        ([b"\xff", b"{}"], "not JSON"),
    ],
)
def test_bad_frames_say_what_is_wrong(frames: list[bytes], reason: str) -> None:
    with pytest.raises(MessageError, match=reason):
        Envelope.decode(frames)
