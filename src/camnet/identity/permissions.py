"""Per-user permissions on state variables, as plain values (no I/O).

The c2 dialect grants each user a set of variables to read and a set to write. Everything
a face sends or applies is filtered through these sets: an unreadable variable never leaves
the server and a write the user may not make changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from camnet.state.schema import Schema


class Role(StrEnum):
    ADMIN = "admin"
    API = "api"


@dataclass(frozen=True, slots=True)
class VariableGrant:
    """The variables a user may read and write; ``None`` means all of them."""

    read: frozenset[str] | None
    write: frozenset[str] | None

    def may_read(self, name: str) -> bool:
        return self.read is None or name in self.read

    def may_write(self, name: str) -> bool:
        return self.write is None or name in self.write

    def readable(self, schema: Schema) -> list[str]:
        """Readable variables of the schema, in schema order."""
        return [v.name for v in schema if v.readable and self.may_read(v.name)]


ALL = VariableGrant(read=None, write=None)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller."""

    user: str
    role: Role
    grant: VariableGrant


class PermissionPolicy:
    """Turns a user's role into its variable grant, from the operator's settings."""

    def __init__(self, api_user_read: Iterable[str] | None, api_user_write: Iterable[str]):
        self._api = VariableGrant(
            read=None if api_user_read is None else frozenset(api_user_read),
            write=frozenset(api_user_write),
        )

    def grant_for(self, role: Role) -> VariableGrant:
        return ALL if role is Role.ADMIN else self._api
