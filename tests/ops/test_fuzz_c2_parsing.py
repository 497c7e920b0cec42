"""Fuzzing the c2 request parser (faces/c2/parsing.py): whatever a query string, a JSON
body or a get list holds, the parser answers operations or a ``C2Error`` (400/403) with
the c2 error body, never another exception, and a request it refuses yields no
operation at all (so nothing can be half-applied)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from camnet.devices.device import Read, Write
from camnet.devices.profiles.c2 import c2_schema
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.parsing import body_operations, json_pairs, parse_get_list, query_operations
from camnet.identity.permissions import ALL, NOTHING, VariableGrant

SCHEMA = c2_schema()
NAMES = [variable.name for variable in SCHEMA]
FUZZ = settings(
    max_examples=200, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

keys = st.one_of(st.sampled_from([*NAMES, "get", "token", "user"]), st.text(max_size=12))
json_values: st.SearchStrategy[Any] = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=20)
    | st.lists(st.sampled_from(NAMES), max_size=4),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)
grants = st.sampled_from(
    [ALL, NOTHING, VariableGrant(read=frozenset(NAMES[:5]), write=frozenset(NAMES[5:15]))]
)


def assert_refusal(error: C2Error) -> None:
    assert error.status in (400, 403), error
    body = json.loads(error.text())
    assert set(body) == {"error"}
    assert body["error"]["status"] == error.status
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]


def assert_operations(operations: list[Read | Write]) -> None:
    for operation in operations:
        if isinstance(operation, Write):
            assert operation.variable.writable
            assert (
                operation.variable.check is None
                or operation.variable.check(operation.value) is None
            )
        else:
            assert all(name in SCHEMA for name in operation.names)


@FUZZ
@given(st.text(max_size=60))
@example("[" * 5000)
@example("[light0,,]")
@example("['\"]")
def test_get_lists(text: str) -> None:
    try:
        names = parse_get_list(text)
    except C2Error as error:
        assert error.code == "malformed_get"
        assert_refusal(error)
        return
    assert all(1 <= len(name) <= 64 for name in names)


@FUZZ
@given(st.one_of(st.text(max_size=80), st.binary(max_size=80)))
@example("[" * 100_000)
@example('{"a":' * 100_000)
@example(b"\xff\xfe{")
@example('{"light0": NaN}')
@example('{"gain": Infinity}')
@example("1e999999")
def test_json_bodies(text: str | bytes) -> None:
    try:
        pairs = json_pairs(text)
    except C2Error as error:
        assert error.code == "invalid_json"
        assert_refusal(error)
        return
    assert all(isinstance(key, str) for key, _ in pairs)


@FUZZ
@given(st.lists(st.tuples(keys, st.text(max_size=20)), max_size=6), grants)
def test_query_strings(pairs: list[tuple[str, str]], grant: VariableGrant) -> None:
    try:
        operations = query_operations(pairs, SCHEMA, grant)
    except C2Error as error:
        assert_refusal(error)
        assert error.details, "a refusal names the members it refuses"
        return
    assert_operations(operations)


@FUZZ
@given(st.lists(st.tuples(keys, json_values), max_size=6), grants)
def test_json_members(pairs: list[tuple[str, Any]], grant: VariableGrant) -> None:
    try:
        operations = body_operations(pairs, SCHEMA, grant)
    except C2Error as error:
        assert_refusal(error)
        return
    assert_operations(operations)
