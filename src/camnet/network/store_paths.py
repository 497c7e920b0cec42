"""Names in the Store: which service's data a topic ``Name`` speaks of, and where in it.

The Store keeps one JSON object per service. A ``Name`` is ``<Service>`` (that whole
object) or ``<Service>.<key>[.<key>…]`` (a value inside it, by the vendor's dot notation).
Service names never contain dots, so the first segment is always the service. Pure
functions, no I/O: the Store service and its backends share them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from camnet.state.schema import JsonValue

MISSING = object()
"""What ``value_at`` returns for a path that leads nowhere."""


class PathError(ValueError):
    """A Store name that does not name a service's data; the text says why."""


@dataclass(frozen=True, slots=True)
class StorePath:
    service: str
    keys: tuple[str, ...]

    @property
    def name(self) -> str:
        return ".".join((self.service, *self.keys))


def parse_name(name: str) -> StorePath:
    """``<Service>[.<key>…]`` as a path; PathError when a segment is empty."""
    if not name:
        raise PathError("a Store Name is <Service> or <Service>.<key>; this one is empty")
    service, *keys = name.split(".")
    if not service or any(not key for key in keys):
        raise PathError(f"{name!r}: empty segment; a Store Name is <Service>[.<key>…]")
    return StorePath(service, tuple(keys))


def value_at(state: dict[str, JsonValue], keys: tuple[str, ...]) -> object:
    """The value at ``keys`` inside ``state``, or MISSING."""
    current: object = state
    for key in keys:
        if not isinstance(current, dict) or key not in current:
            return MISSING
        current = current[key]
    return current


def with_value(
    state: dict[str, JsonValue], keys: tuple[str, ...], value: JsonValue
) -> dict[str, JsonValue]:
    """A copy of ``state`` with ``value`` at ``keys``; objects on the way are created.

    With no keys, ``value`` replaces the whole state and must be an object. A value on
    the way that is not an object is a PathError, never silently overwritten.
    """
    if not keys:
        if not isinstance(value, dict):
            raise PathError("a service's whole data is a JSON object")
        return copy.deepcopy(value)
    out = copy.deepcopy(state)
    current = out
    for depth, key in enumerate(keys[:-1]):
        nested = current.setdefault(key, {})
        if not isinstance(nested, dict):
            where = ".".join(keys[: depth + 1])
            raise PathError(f"{where} holds a value that is not an object")
        current = nested
    current[keys[-1]] = copy.deepcopy(value)
    return out
