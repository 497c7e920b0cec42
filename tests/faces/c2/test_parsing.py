"""c2 request parsing: get lists, ordered JSON members, permission and type checks."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camnet.devices.device import Read, Write
from camnet.devices.profiles.c2 import c2_schema
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.parsing import body_operations, json_pairs, parse_get_list, query_operations
from camnet.identity.permissions import ALL, VariableGrant


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("[light0,record,recordTime,pan0]", ["light0", "record", "recordTime", "pan0"]),
        ("light0,record", ["light0", "record"]),
        ('["light0", "record"]', ["light0", "record"]),
        ("[ light0 , record ]", ["light0", "record"]),
        ("[]", []),
        ("light0", ["light0"]),
    ],
)
def test_get_lists(text: str, names: list[str]) -> None:
    assert parse_get_list(text) == names


@pytest.mark.parametrize("text", ["[light0", "light0]", "[a,,b]", "[a b]", "[a;b]", "[,]"])
def test_malformed_get_lists(text: str) -> None:
    with pytest.raises(C2Error) as raised:
        parse_get_list(text)
    assert raised.value.status == 400
    assert raised.value.code == "malformed_get"


def test_json_pairs_keep_order_and_repeats() -> None:
    pairs = json_pairs('{"b": 1, "a": {"x": 1, "x": 2}, "b": 3}')
    assert pairs == [("b", 1), ("a", {"x": 2}), ("b", 3)]


def test_query_operations_skip_credentials_and_keep_order() -> None:
    operations = query_operations(
        [
            ("token", "t"),
            ("user", "u"),
            ("light0", "true"),
            ("get", "[gain,nope]"),
            ("gain", "100"),
        ],
        c2_schema(),
        ALL,
    )
    assert isinstance(operations[0], Write)
    assert operations[0].value is True
    assert operations[1] == Read(("gain",))
    assert isinstance(operations[2], Write)
    assert operations[2].value == 42


def test_reads_are_filtered_by_permission() -> None:
    grant = VariableGrant(read=frozenset({"light0"}), write=frozenset())
    assert query_operations([("get", "[light0,light1]")], c2_schema(), grant) == [Read(("light0",))]


def test_every_problem_is_collected_and_forbidden_is_403_only_alone() -> None:
    grant = VariableGrant(read=None, write=frozenset({"light0"}))
    with pytest.raises(C2Error) as raised:
        body_operations([("light1", True)], c2_schema(), grant)
    assert raised.value.status == 403
    with pytest.raises(C2Error) as raised:
        body_operations([("light1", True), ("light0", "x")], c2_schema(), grant)
    assert raised.value.status == 400
    assert [p.key for p in raised.value.details] == ["light0", "light1"]


@given(st.text(max_size=200))
def test_json_pairs_only_ever_raise_c2_errors(text: str) -> None:
    try:
        pairs = json_pairs(text)
    except C2Error as error:
        assert error.status == 400
    else:
        try:
            body_operations(pairs, c2_schema(), ALL)
        except C2Error as error:
            assert error.status in (400, 403)


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=6))
def test_query_operations_only_ever_raise_c2_errors(pairs: list[tuple[str, str]]) -> None:
    try:
        query_operations(pairs, c2_schema(), ALL)
    except C2Error as error:
        assert error.status in (400, 403)
