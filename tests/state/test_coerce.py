"""Coercion of query text and JSON values, saturation into ranges."""

from __future__ import annotations

import contextlib
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from camnet.devices.profiles.c2 import c2_schema
from camnet.state.coerce import CoercionError, from_json, from_text, in_range, saturate
from camnet.state.schema import Access, Kind, Variable

GAIN = Variable("gain", Kind.INT, Access.READ_WRITE, "gain", 0, minimum=0, maximum=42)
EXPO = Variable("expo", Kind.FLOAT, Access.READ_WRITE, "ms", 10.0, minimum=0.01, maximum=1000.0)
ZOOM = Variable(
    "zoom", Kind.INT, Access.READ_WRITE, "zoom", 0, minimum=0, maximum=31424, relative=True
)
LIGHT = Variable("light", Kind.BOOL, Access.READ_WRITE, "light", False)
FPS = Variable("fps", Kind.ENUM, Access.READ_WRITE, "fps", 30, options=(1, 5, 30, 60))
ALIGN = Variable("align", Kind.ENUM, Access.READ_WRITE, "align", "0", options=("0", "1"))


@pytest.mark.parametrize(
    ("variable", "text", "expected"),
    [
        (LIGHT, "true", True),
        (LIGHT, "FALSE", False),
        (LIGHT, "1", True),
        (LIGHT, "0", False),
        (GAIN, "7", 7),
        (GAIN, "-5", 0),
        (GAIN, "99", 42),
        (GAIN, "3.5", 4),
        (GAIN, "1e1", 10),
        (GAIN, "inf", 42),
        (GAIN, " 8 ", 8),
        (EXPO, "0", 0.01),
        (EXPO, "12.5", 12.5),
        (EXPO, "-inf", 0.01),
        (ZOOM, "-500", -500),
        (ZOOM, "inf", 31424),
        (FPS, "60", 60),
        (ALIGN, "1", "1"),
    ],
)
def test_query_text(variable: Variable, text: str, expected: object) -> None:
    value = from_text(variable, text)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    ("variable", "text", "reason"),
    [
        (LIGHT, "yes", "expected true or false"),
        (GAIN, "", "empty"),
        (GAIN, "seven", "expected a number"),
        (GAIN, "nan", "NaN"),
        (FPS, "20", "is not one of: 1, 5, 30, 60"),
        (ALIGN, "2", 'is not one of: "0", "1"'),
    ],
)
def test_query_text_errors(variable: Variable, text: str, reason: str) -> None:
    with pytest.raises(CoercionError, match=reason):
        from_text(variable, text)


def test_structured_values_cannot_come_from_a_query() -> None:
    with pytest.raises(CoercionError, match="POST"):
        from_text(c2_schema()["pan0"], '{"x": 1}')


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (LIGHT, True, True),
        (LIGHT, 0, False),
        (GAIN, 41.6, 42),
        (GAIN, -3, 0),
        (EXPO, 5, 5.0),
        (FPS, 30, 30),
        (FPS, "30", 30),
        (FPS, 30.0, 30),
        (ALIGN, 1, "1"),
    ],
)
def test_json_values(variable: Variable, value: object, expected: object) -> None:
    result = from_json(variable, value)
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        (LIGHT, 2),
        (LIGHT, None),
        (LIGHT, [True]),
        (GAIN, True),
        (GAIN, None),
        (GAIN, {"x": 1}),
        (FPS, True),
        (ALIGN, True),
        (EXPO, "fast"),
    ],
)
def test_json_type_errors(variable: Variable, value: object) -> None:
    with pytest.raises(CoercionError):
        from_json(variable, value)


def test_pan_members() -> None:
    pan = c2_schema()["pan0"]
    assert from_json(pan, {"x": -10.5}) == {"x": -10.5}
    for bad in ({"x": "1"}, {"z": 1}, {"x": True}, [1, 2], {"x": math.inf}):
        with pytest.raises(CoercionError):
            from_json(pan, bad)


def test_tag_members_take_unix_seconds_or_the_seed_string() -> None:
    tag = c2_schema()["createTag"]
    assert from_json(tag, {"creationTime": 1700000000, "title": "t"})["title"] == "t"
    assert from_json(tag, {"creationTime": "2024-01-02T03:04:05+01:00"})
    assert from_json(tag, {}) == {}
    with pytest.raises(CoercionError):
        from_json(tag, {"creationTime": -5})


def test_timezone_and_host_checks() -> None:
    schema = c2_schema()
    assert from_text(schema["timezone"], "Europe/Berlin") == "Europe/Berlin"
    with pytest.raises(CoercionError, match="IANA"):
        from_text(schema["timezone"], "Nowhere/Special")
    assert from_text(schema["ntpHost"], "pool.ntp.org") == "pool.ntp.org"
    with pytest.raises(CoercionError):
        from_text(schema["ntpHost"], "bad host!")


ranged = [v for v in c2_schema() if v.ranged and v.kind in (Kind.INT, Kind.FLOAT)]


@given(variable=st.sampled_from(ranged), number=st.integers(-(10**30), 10**30))
def test_integer_text_always_lands_in_range(variable: Variable, number: int) -> None:
    value = from_text(variable, str(number))
    if variable.relative:
        assert value == number or abs(value) >= 0  # a change; the device saturates
    else:
        assert in_range(variable, value)
        assert value == saturate(variable, number) or variable.kind is Kind.INT


@given(variable=st.sampled_from(ranged), number=st.floats(allow_nan=False, allow_infinity=True))
def test_float_json_is_saturated_and_idempotent(variable: Variable, number: float) -> None:
    value = from_json(variable, number)
    if not variable.relative:
        assert in_range(variable, value)
        assert from_json(variable, value) == value
    assert isinstance(value, int if variable.kind is Kind.INT else float)


@given(st.booleans())
def test_bool_text_round_trips(flag: bool) -> None:
    assert from_text(LIGHT, str(flag).lower()) is flag
    assert from_text(LIGHT, str(int(flag))) is flag


@given(st.text())
def test_query_text_never_raises_anything_but_coercion_errors(text: str) -> None:
    for variable in c2_schema():
        if not variable.writable:
            continue
        with contextlib.suppress(CoercionError):
            from_text(variable, text)
