"""Fuzzing the c2 face on the wire: random refused requests through a real WebSocket
and through ``GET``/``POST /api`` of a real server. Each one is answered with the c2
error body (the WebSocket stays open) and leaves every writable variable as it was.

Only requests the parser refuses are sent (the parser itself is fuzzed in
``test_fuzz_c2_parsing.py``); accepted random writes could change the credentials or
start a recording, and prove nothing about rejection."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websocket
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from camnet.devices.profiles.c2 import c2_schema
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.parsing import body_operations, json_pairs, query_operations
from camnet.identity.permissions import ALL
from tests.support import ServerProcess

SCHEMA = c2_schema()
NAMES = [variable.name for variable in SCHEMA]
WRITABLE = [variable.name for variable in SCHEMA if variable.writable and variable.readable]
WIRE = settings(
    max_examples=40,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=2) | st.dictionaries(st.text(max_size=4), children, max_size=2)
    ),
    max_leaves=4,
)
keys = st.one_of(st.sampled_from([*NAMES, "get"]), st.text(min_size=1, max_size=8))
objects = st.lists(st.tuples(keys, json_values), min_size=1, max_size=4).map(
    lambda pairs: "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
)
texts = st.one_of(objects, st.text(max_size=30), json_values.map(json.dumps))


def refused(text: str) -> bool:
    try:
        body_operations(json_pairs(text), SCHEMA, ALL)
    except C2Error:
        return True
    return False


@pytest.fixture(scope="module")
def admin(server: ServerProcess) -> Iterator[httpx.Client]:
    with server.client(auth=("admin", server.admin_password)) as client:
        yield client


def writable_state(admin: httpx.Client) -> dict[str, Any]:
    response = admin.get("/api")
    assert response.status_code == 200
    state = response.json()
    # A storage selection (backupStorage, recordingStorage) is written by uuid; its
    # used/free figures are measurements of the disk that move on their own.
    return {
        name: state[name]["uuid"]
        if isinstance(state[name], dict) and "uuid" in state[name]
        else state[name]
        for name in WRITABLE
        if name in state
    }


def assert_c2_error(body: Any, statuses: tuple[int, ...] = (400, 403)) -> None:
    assert isinstance(body, dict)
    assert set(body) == {"error"}, body
    assert body["error"]["status"] in statuses
    assert body["error"]["message"]


@pytest.fixture(scope="module")
def socket(server: ServerProcess) -> Iterator[websocket.WebSocket]:
    query = urlencode({"user": "admin", "token": server.admin_password})
    ws = websocket.create_connection(f"{server.ws_url}?{query}", timeout=5)
    ws.recv()  # the whole state
    yield ws
    ws.close()


def next_error(ws: websocket.WebSocket, timeout: float = 5.0) -> dict[str, Any]:
    """The next error message (simulated readings arrive in between)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if "error" in message:
            assert isinstance(message, dict)
            return message
    raise AssertionError("no error message arrived")


@WIRE
@given(texts)
@example("[" * 100_000)
@example('{"light0": true, "nope": 1}')
@example('{"gain": 100, "gain": "loud"}')
@example('{"light0": NaN}')
def test_websocket_refusals_change_nothing(
    socket: websocket.WebSocket, admin: httpx.Client, text: str
) -> None:
    assume(refused(text))
    before = writable_state(admin)
    socket.send(text)
    assert_c2_error(next_error(socket))
    assert writable_state(admin) == before


def test_websocket_binary_frames_are_refused(
    socket: websocket.WebSocket, admin: httpx.Client
) -> None:
    before = writable_state(admin)
    socket.send_binary(b'{"light0": true}')
    assert next_error(socket)["error"]["code"] == "binary_message"
    assert writable_state(admin) == before


@WIRE
@given(st.lists(st.tuples(keys, st.text(max_size=12)), min_size=1, max_size=4))
@example([("light0", "true"), ("gain", "loud")])
@example([("get", "[light0")])
def test_query_refusals_change_nothing(admin: httpx.Client, pairs: list[tuple[str, str]]) -> None:
    assume(all(key not in ("token", "user", "password") for key, _ in pairs))
    try:
        query_operations(pairs, SCHEMA, ALL)
    except C2Error:
        pass
    else:
        assume(False)
    before = writable_state(admin)
    query: list[tuple[str, str | int | float | bool | None]] = list(pairs)
    response = admin.get("/api", params=query)
    assert response.status_code in (400, 403), response.text
    assert_c2_error(response.json())
    assert writable_state(admin) == before


@WIRE
@given(st.one_of(texts.map(str.encode), st.binary(max_size=30)))
@example(b"\xff\xfe")
@example(b'{"light0": true, "zoom": "far"}')
def test_body_refusals_change_nothing(admin: httpx.Client, body: bytes) -> None:
    try:
        body_operations(json_pairs(body), SCHEMA, ALL)
    except C2Error:
        pass
    else:
        assume(False)
    before = writable_state(admin)
    response = admin.post("/api", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code in (400, 403), response.text
    assert_c2_error(response.json())
    assert writable_state(admin) == before
