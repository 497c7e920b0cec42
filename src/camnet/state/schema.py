"""One declaration per state variable; validation, coercion, docs and controls derive from it.

A ``Variable`` says what a value is (kind, range or options, shape), who may touch it
(access), what it means (unit, description), where it starts (default) and how it lives:
``persisted`` settings survive a restart, measured values are produced by the device,
``relative`` variables take their written value as a change of the current one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import Flag, StrEnum
from typing import Any

JsonValue = Any
"""A value that JSON can carry: None, bool, int, float, str, list or dict of these."""


class Kind(StrEnum):
    """The type of a variable's value."""

    BOOL = "bool"
    INT = "int"
    FLOAT = "float"
    STRING = "string"
    ENUM = "enum"
    JSON = "json"


class Access(Flag):
    """What the device allows on a variable, before any per-user permission."""

    NONE = 0
    READ = 1
    WRITE = 2
    READ_WRITE = READ | WRITE

    @property
    def letters(self) -> str:
        return ("r" if Access.READ in self else "") + ("w" if Access.WRITE in self else "")


class Field(StrEnum):
    """The type of one member of a structured (JSON object) variable."""

    NUMBER = "number"
    STRING = "string"
    BOOL = "bool"
    NUMBER_OR_STRING = "number|string"


@dataclass(frozen=True, slots=True)
class Variable:
    """The declaration of one state variable."""

    name: str
    kind: Kind
    access: Access
    description: str
    default: JsonValue = None
    minimum: float | None = None
    maximum: float | None = None
    options: tuple[JsonValue, ...] = ()
    unit: str = ""
    persisted: bool = False
    relative: bool = False
    shape: Mapping[str, Field] | None = None
    """Members of a writable JSON object; every member is optional in a write."""
    write_kind: Kind | None = None
    """The kind a write takes when it differs from the read form (select-by-uuid)."""
    max_length: int = 255
    check: Callable[[JsonValue], str | None] | None = field(default=None, compare=False)
    """An extra rule for written values; returns the reason a value is refused, or None."""

    def __post_init__(self) -> None:
        if self.kind is Kind.ENUM and not self.options:
            raise ValueError(f"enum variable {self.name} declares no options")
        if (self.minimum is None) != (self.maximum is None):
            raise ValueError(f"variable {self.name} declares only one end of its range")

    @property
    def readable(self) -> bool:
        return Access.READ in self.access

    @property
    def writable(self) -> bool:
        return Access.WRITE in self.access

    @property
    def ranged(self) -> bool:
        return self.minimum is not None

    @property
    def effective_write_kind(self) -> Kind:
        return self.write_kind or self.kind


class Schema:
    """An ordered, immutable set of variables with lookup by name."""

    def __init__(self, variables: Iterable[Variable]) -> None:
        self._variables: dict[str, Variable] = {}
        for variable in variables:
            if variable.name in self._variables:
                raise ValueError(f"variable {variable.name} declared twice")
            self._variables[variable.name] = variable

    def __iter__(self) -> Iterator[Variable]:
        return iter(self._variables.values())

    def __len__(self) -> int:
        return len(self._variables)

    def __contains__(self, name: object) -> bool:
        return name in self._variables

    def get(self, name: str) -> Variable | None:
        return self._variables.get(name)

    def __getitem__(self, name: str) -> Variable:
        return self._variables[name]

    def names(self) -> list[str]:
        return list(self._variables)

    def defaults(self) -> dict[str, JsonValue]:
        return {v.name: v.default for v in self._variables.values()}

    def describe(self) -> list[dict[str, JsonValue]]:
        """A JSON description of every variable, for docs, OpenAPI and generated controls."""
        out: list[dict[str, JsonValue]] = []
        for v in self._variables.values():
            entry: dict[str, JsonValue] = {
                "name": v.name,
                "type": v.kind.value,
                "access": v.access.letters,
                "description": v.description,
                "default": v.default,
                "persisted": v.persisted,
                "relative": v.relative,
            }
            if v.ranged:
                entry["range"] = [v.minimum, v.maximum]
            if v.options:
                entry["options"] = list(v.options)
            if v.unit:
                entry["unit"] = v.unit
            if v.shape:
                entry["shape"] = {k: f.value for k, f in v.shape.items()}
            if v.write_kind:
                entry["writeType"] = v.write_kind.value
            out.append(entry)
        return out
