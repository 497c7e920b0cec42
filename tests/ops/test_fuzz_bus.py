"""Fuzzing what comes in from outside the process onto the bus: the ZeroMQ hub's
multipart frames (``Envelope.decode``) and the Gateway's query and body forms. Anything
is either a valid Envelope that encodes back to itself, or a ``MessageError`` whose text
says what is wrong; no other exception reaches the hub's loop or the Gateway route."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from camnet.bus.message import Envelope, MessageError, MessageType
from camnet.faces.gateway import envelope_from_body, envelope_from_query
from tests.support import ServerProcess

FUZZ = settings(
    max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
TOPIC_KEYS = ["Type", "Target", "Source", "Name", "RespondTo", "Method", "ID", "ExecutedOn"]

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
json_like: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
topics = st.dictionaries(
    st.sampled_from([*TOPIC_KEYS, "Extra"]),
    st.one_of(st.sampled_from([t.value for t in MessageType]), json_like),
    max_size=5,
)
messages = st.dictionaries(
    st.sampled_from(["Value", "Params", "Result", "X"]), json_like, max_size=3
)


def dumps(value: Any) -> bytes:
    return json.dumps(value).encode()


frames = st.lists(
    st.one_of(st.binary(max_size=40), topics.map(dumps), messages.map(dumps), json_like.map(dumps)),
    max_size=4,
)


def assert_valid(envelope: Envelope) -> None:
    again = Envelope.decode(envelope.encode())
    assert again == envelope


@FUZZ
@given(frames)
@example([b"[" * 100_000, b"{}"])
@example([b'{"Type": "Get"}', b"[" * 100_000])
@example([b'{"Type": ["Get"]}', b"{}"])
@example([b'{"Type": {"a": 1}}', b"{}"])
@example([b'{"Type": "Get", "Target": 1}', b"{}"])
@example([b"\xff\xfe\x00", b"{}"])
@example([b'{"Type": "Set", "Name": "State.light0"}', b'{"Value": NaN}', b"\x00"])
def test_zmq_frames(parts: list[bytes]) -> None:
    try:
        envelope = Envelope.decode(parts)
    except MessageError as error:
        assert str(error)
        return
    assert_valid(envelope)


@FUZZ
@given(
    st.dictionaries(
        st.one_of(st.sampled_from([*TOPIC_KEYS, "Value", "ParamX", "Param", "token"]), st.text()),
        st.text(max_size=20),
        max_size=6,
    )
)
@example({"Type": "Set", "Value": "[" * 100_000})
@example({"Type": "Call", "ParamA": '{"a":' * 100_000})
@example({"Type": "Get", "Value": "NaN"})
def test_gateway_query(query: dict[str, str]) -> None:
    try:
        envelope = envelope_from_query(query)
    except MessageError as error:
        assert str(error)
        return
    assert_valid(envelope)


@FUZZ
@given(
    st.one_of(
        json_like,
        st.fixed_dictionaries({"Topic": topics}, optional={"Message": messages}),
        st.dictionaries(st.sampled_from(["Topic", "Message", "Other"]), json_like, max_size=3),
    )
)
def test_gateway_body(body: Any) -> None:
    try:
        envelope = envelope_from_body(body)
    except MessageError as error:
        assert str(error)
        return
    assert_valid(envelope)


@pytest.mark.parametrize(
    "body", [b"[" * 100_000, b'{"Topic": {"Type": "Get"}, "Message": {"Value": NaN}}']
)
def test_gateway_route_answers_400_to_what_the_decoder_refuses(
    server: ServerProcess, body: bytes
) -> None:
    with server.client(auth=("admin", server.admin_password)) as admin:
        answer = admin.post("/gateway/v1/publish", content=body)
    assert answer.status_code == 400, answer.text
    error = answer.json()[0]["Message"]["Value"]  # the Gateway's array shape (issue 18)
    assert error["statusCode"] == 400
    assert "not JSON" in error["message"]
