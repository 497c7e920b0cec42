"""Turning written values into typed, in-range values.

Two entry points: ``from_text`` for URL query text (everything is a string there) and
``from_json`` for JSON values. Both return the value to apply or raise ``CoercionError``
with a reason a client can act on. Numbers outside a range are *saturated* into it, as
the c2 dialect requires; other dialects that prefer refusing check ``in_range`` first.
"""

from __future__ import annotations

import math
from typing import Any

from camnet.state.schema import Field, JsonValue, Kind, Variable

_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


class CoercionError(ValueError):
    """A written value that cannot be made into the variable's type."""

    def __init__(self, variable: str, reason: str) -> None:
        super().__init__(f"{variable}: {reason}")
        self.variable = variable
        self.reason = reason


def saturate(variable: Variable, number: float) -> float:
    """Clamp a number into the variable's range (identity for unranged variables)."""
    if variable.minimum is None or variable.maximum is None:
        return number
    return min(max(number, variable.minimum), variable.maximum)


def in_range(variable: Variable, number: float) -> bool:
    if variable.minimum is None or variable.maximum is None:
        return True
    return variable.minimum <= number <= variable.maximum


def _parse_number(variable: Variable, text: str) -> float | int:
    stripped = text.strip()
    if not stripped:
        raise CoercionError(variable.name, "expected a number, got an empty value")
    try:
        return int(stripped, 10)
    except ValueError:
        pass
    try:
        number = float(stripped)
    except ValueError:
        raise CoercionError(variable.name, f"expected a number, got {text!r}") from None
    if math.isnan(number):
        raise CoercionError(variable.name, "NaN is not a number this variable can take")
    return number


def _infinite(variable: Variable, positive: bool) -> float:
    """What an infinite number saturates to: a bound, or for a relative change the span."""
    if variable.minimum is None or variable.maximum is None:
        raise CoercionError(variable.name, "expected a finite number")
    if variable.relative:
        span = variable.maximum - variable.minimum
        return span if positive else -span
    return variable.maximum if positive else variable.minimum


def _limit(variable: Variable, number: float) -> float:
    """Saturate an absolute value; a relative change is saturated by the device instead."""
    return number if variable.relative else saturate(variable, number)


def _to_int(variable: Variable, number: float | int) -> int:
    if isinstance(number, float):
        if math.isnan(number):
            raise CoercionError(variable.name, "NaN is not a number this variable can take")
        if math.isinf(number):
            return int(_infinite(variable, number > 0))
        number = round(number)
    return int(_limit(variable, number))


def _to_float(variable: Variable, number: float | int) -> float:
    value = float(number)
    if math.isinf(value):
        return float(_infinite(variable, value > 0))
    return float(_limit(variable, value))


def _number(variable: Variable, kind: Kind, number: float | int) -> int | float:
    return _to_int(variable, number) if kind is Kind.INT else _to_float(variable, number)


def _check(variable: Variable, value: JsonValue) -> JsonValue:
    if variable.check is not None:
        reason = variable.check(value)
        if reason is not None:
            raise CoercionError(variable.name, reason)
    return value


def _string(variable: Variable, value: str) -> str:
    if len(value) > variable.max_length:
        raise CoercionError(variable.name, f"text longer than {variable.max_length} characters")
    return str(_check(variable, value))


def _same_option(option: JsonValue, candidate: JsonValue) -> bool:
    """String options also match a number that prints as them (``"1"`` ← 1); numeric
    options also match their text (``30`` ← ``"30"``)."""
    if isinstance(option, str):
        return candidate == option or (
            isinstance(candidate, int | float) and str(candidate) == option
        )
    if isinstance(candidate, str):
        return candidate.strip() == str(option)
    return isinstance(candidate, int | float) and candidate == option


def _enum_option(variable: Variable, candidate: JsonValue) -> JsonValue:
    if not isinstance(candidate, bool):  # True == 1 in Python; never an option here
        for option in variable.options:
            if _same_option(option, candidate):
                return option
    allowed = ", ".join(json_text(o) for o in variable.options)
    raise CoercionError(variable.name, f"{json_text(candidate)} is not one of: {allowed}")


def json_text(value: JsonValue) -> str:
    """A short JSON-like rendering for error messages."""
    if isinstance(value, str):
        return f'"{value}"'
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return str(value)


def from_text(variable: Variable, text: str) -> JsonValue:
    """Coerce URL query text: ``true``/``false`` become booleans, numbers are saturated."""
    kind = variable.effective_write_kind
    if kind is Kind.BOOL:
        lowered = text.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise CoercionError(variable.name, f"expected true or false, got {text!r}")
    if kind in (Kind.INT, Kind.FLOAT):
        return _number(variable, kind, _parse_number(variable, text))
    if kind is Kind.STRING:
        return _string(variable, text)
    if kind is Kind.ENUM:
        return _enum_option(variable, text)
    raise CoercionError(
        variable.name, "a structured value cannot be set in a URL query; use POST with JSON"
    )


def from_json(variable: Variable, value: JsonValue) -> JsonValue:
    """Coerce a JSON value; numbers are saturated, structured values checked member-wise."""
    kind = variable.effective_write_kind
    if kind is Kind.BOOL:
        if isinstance(value, bool):
            return value
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise CoercionError(variable.name, f"expected true or false, got {json_text(value)}")
    if kind in (Kind.INT, Kind.FLOAT):
        if isinstance(value, bool) or not isinstance(value, int | float):
            if isinstance(value, str):
                return _number(variable, kind, _parse_number(variable, value))
            raise CoercionError(variable.name, f"expected a number, got {json_text(value)}")
        return _number(variable, kind, value)
    if kind is Kind.STRING:
        if not isinstance(value, str):
            raise CoercionError(variable.name, f"expected a string, got {json_text(value)}")
        return _string(variable, value)
    if kind is Kind.ENUM:
        return _enum_option(variable, value)
    return _structured(variable, value)


def _structured(variable: Variable, value: JsonValue) -> dict[str, Any]:
    if variable.shape is None:
        raise CoercionError(variable.name, "this structured variable cannot be written")
    if not isinstance(value, dict):
        raise CoercionError(variable.name, "expected a JSON object")
    unknown = sorted(set(value) - set(variable.shape))
    if unknown:
        members = ", ".join(variable.shape)
        raise CoercionError(
            variable.name, f"unknown member(s) {', '.join(unknown)}; members are: {members}"
        )
    out: dict[str, Any] = {}
    for member, member_value in value.items():
        out[member] = _member(variable, member, variable.shape[member], member_value)
    return dict(_check(variable, out))


def _member(variable: Variable, member: str, field_type: Field, value: JsonValue) -> JsonValue:
    where = f"{variable.name}.{member}"
    if field_type is Field.BOOL:
        if isinstance(value, bool):
            return value
        raise CoercionError(where, f"expected true or false, got {json_text(value)}")
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and math.isfinite(value) and field_type is not Field.STRING:
        return value
    if isinstance(value, str) and field_type in (Field.STRING, Field.NUMBER_OR_STRING):
        if len(value) > variable.max_length:
            raise CoercionError(where, f"text longer than {variable.max_length} characters")
        return value
    expected = {
        Field.NUMBER: "a finite number",
        Field.STRING: "a string",
        Field.NUMBER_OR_STRING: "a number or a string",
    }[field_type]
    raise CoercionError(where, f"expected {expected}, got {json_text(value)}")
