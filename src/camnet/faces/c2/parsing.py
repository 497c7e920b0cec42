"""c2 requests into device operations: query strings, JSON bodies and WebSocket messages.

Pure functions. Everything a request asks is checked before anything runs: names,
permissions and types. Problems are collected so one answer lists them all, and a
request with any problem changes nothing.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final

from camnet import strict_json
from camnet.devices.device import Operation, Read, Write
from camnet.faces.c2.errors import C2Error, Problem
from camnet.identity.permissions import VariableGrant
from camnet.state.coerce import CoercionError, from_json, from_text
from camnet.state.schema import Schema

AUTH_KEYS: Final = frozenset({"token", "password", "user"})
GET_KEY: Final = "get"
_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


class _Pairs(list[tuple[str, Any]]):
    """A JSON object as its key/value pairs, in written order, duplicates kept."""


def _to_plain(value: Any) -> Any:
    if isinstance(value, _Pairs):
        return {k: _to_plain(v) for k, v in value}
    if isinstance(value, list):
        return [_to_plain(v) for v in value]
    return value


def json_pairs(text: str | bytes) -> list[tuple[str, Any]]:
    """Parse a JSON object keeping its members' order and repeats (later ones run later)."""
    try:
        parsed = strict_json.loads(text, object_pairs_hook=_Pairs)
    except UnicodeDecodeError:
        raise C2Error(400, "invalid_json", "the body is not UTF-8 text") from None
    except (json.JSONDecodeError, ValueError, RecursionError) as exc:
        raise C2Error(400, "invalid_json", f"the body is not valid JSON: {exc}") from None
    if not isinstance(parsed, _Pairs):
        raise C2Error(400, "invalid_json", "expected a JSON object of variables")
    return [(key, _to_plain(value)) for key, value in parsed]


def parse_get_list(text: str) -> list[str]:
    """``[a,b,c]`` (brackets optional, names optionally quoted) → names."""
    inner = text.strip()
    if inner.startswith("[") or inner.endswith("]"):
        if not (inner.startswith("[") and inner.endswith("]")):
            raise C2Error(
                400,
                "malformed_get",
                f"unbalanced brackets in get={text}",
                [Problem("get", "expected get=[name,name,...]")],
            )
        inner = inner[1:-1].strip()
    if not inner:
        return []
    names = []
    for part in inner.split(","):
        name = part.strip().strip('"').strip("'")
        if not _NAME.match(name):
            raise C2Error(
                400,
                "malformed_get",
                f"malformed get list: {text}",
                [Problem("get", f"{part.strip()!r} is not a variable name")],
            )
        names.append(name)
    return names


class _Collector:
    """Turns setters into writes while gathering every problem of the request."""

    def __init__(self, schema: Schema, grant: VariableGrant) -> None:
        self.schema = schema
        self.grant = grant
        self.operations: list[Operation] = []
        self.invalid: list[Problem] = []
        self.forbidden: list[Problem] = []

    def read(self, names: Iterable[str]) -> None:
        visible = []
        for name in names:
            variable = self.schema.get(name)
            if variable is not None and variable.readable and self.grant.may_read(name):
                visible.append(name)
        self.operations.append(Read(tuple(visible)))

    def write(self, key: str, raw: Any, *, from_query: bool) -> None:
        variable = self.schema.get(key)
        if variable is None:
            self.invalid.append(Problem(key, "unknown variable"))
            return
        if not variable.writable:
            self.invalid.append(Problem(key, "read-only variable"))
            return
        if not self.grant.may_write(key):
            self.forbidden.append(Problem(key, "this user may not write it"))
            return
        try:
            value = from_text(variable, raw) if from_query else from_json(variable, raw)
        except CoercionError as exc:
            self.invalid.append(Problem(exc.variable, exc.reason))
            return
        self.operations.append(Write(variable, value))

    def finish(self) -> list[Operation]:
        if self.invalid:
            raise C2Error(
                400,
                "invalid_request",
                _summary(self.invalid + self.forbidden),
                self.invalid + self.forbidden,
            )
        if self.forbidden:
            raise C2Error(403, "forbidden", _summary(self.forbidden), self.forbidden)
        return self.operations


def _summary(problems: list[Problem]) -> str:
    first = problems[0]
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return f"{first.key}: {first.reason}{more}; nothing was changed"


def query_operations(
    pairs: Iterable[tuple[str, str]], schema: Schema, grant: VariableGrant
) -> list[Operation]:
    """Query parameters in order: ``get=[...]`` reads, ``key=value`` writes."""
    collector = _Collector(schema, grant)
    for key, value in pairs:
        if key in AUTH_KEYS:
            continue
        if key == GET_KEY:
            collector.read(parse_get_list(value))
        else:
            collector.write(key, value, from_query=True)
    return collector.finish()


def body_operations(
    pairs: Iterable[tuple[str, Any]], schema: Schema, grant: VariableGrant
) -> list[Operation]:
    """JSON members in written order: ``"get": [...]`` reads, other members write."""
    collector = _Collector(schema, grant)
    for key, value in pairs:
        if key == GET_KEY:
            if not isinstance(value, list) or not all(isinstance(n, str) for n in value):
                collector.invalid.append(Problem(GET_KEY, "expected an array of names"))
                continue
            collector.read(value)
        else:
            collector.write(key, value, from_query=False)
    return collector.finish()
