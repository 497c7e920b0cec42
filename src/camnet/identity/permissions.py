"""Roles, the actions they grant, and the c2 per-variable view of those actions (no I/O).

camnet's permission model is the identity seed's: per tenant, actions
``service:resource:read|write`` (``identity/actions.py``). A role is a named set of actions
in the holder's own account. The c2 dialect's per-user variable lists are the same model
seen through one service: ``c2:state.<variable>:read|write``. Everything a c2 face sends or
applies is filtered through the resulting ``VariableGrant``: an unreadable variable never
leaves the server and a write the user may not make changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from camnet.identity.actions import ANY_TENANT, NO_PERMISSIONS, Action, Permissions, actions
from camnet.state.schema import Schema

DEFAULT_ACCOUNT: Final = "default"
"""The account that owns this node's own devices and the c2 users ``admin``/``API-User``."""

C2_SERVICE: Final = "c2"


class Role(StrEnum):
    ADMIN = "admin"
    OPERATOR = "operator"
    VIEWER = "viewer"
    API = "api"


DEVICE_SERVICES: Final = ("c2", "media", "streams", "recording", "fleet", "network")

ROLE_ACTIONS: Final[dict[Role, frozenset[Action]]] = {
    Role.ADMIN: actions("*:*:read", "*:*:write"),
    Role.OPERATOR: actions("*:*:read", *(f"{service}:*:write" for service in DEVICE_SERVICES)),
    Role.VIEWER: actions("*:*:read"),
}


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

    @classmethod
    def of(cls, permissions: Permissions, tenant: str, names: Iterable[str]) -> VariableGrant:
        """The c2 variables ``permissions`` reach in ``tenant``, as two sets (or "all")."""
        names = list(names)
        return cls(
            read=_variables(permissions, tenant, names, "read"),
            write=_variables(permissions, tenant, names, "write"),
        )


def _variables(
    permissions: Permissions, tenant: str, names: list[str], operation: str
) -> frozenset[str] | None:
    if permissions.allows(tenant, f"{C2_SERVICE}:state.*:{operation}"):
        return None
    return frozenset(
        name
        for name in names
        if permissions.allows(tenant, f"{C2_SERVICE}:state.{name}:{operation}")
    )


ALL = VariableGrant(read=None, write=None)
NOTHING = VariableGrant(read=frozenset(), write=frozenset())


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: who, which account, what it may do, which session."""

    user: str
    role: Role
    grant: VariableGrant
    account: str = DEFAULT_ACCOUNT
    permissions: Permissions = NO_PERMISSIONS
    kind: str = "user"
    session: str = ""
    client_id: str | None = None
    rate_limit: int | None = None
    browser: bool = False
    """Authenticated by the dashboard's session cookie alone: such a principal changes
    state only through a non-safe method with the CSRF check (issue 17 item 6)."""

    def may(self, tenant: str, action: str) -> bool:
        return self.permissions.allows(tenant, action)


class PermissionPolicy:
    """Turns roles into actions; the API-User's come from the operator's settings."""

    def __init__(
        self,
        api_user_read: Iterable[str] | None,
        api_user_write: Iterable[str],
        schema_names: Iterable[str] | None = None,
    ) -> None:
        if schema_names is None:
            from camnet.devices.profiles.c2 import c2_schema

            schema_names = [variable.name for variable in c2_schema()]
        reads = (
            ("c2:*:read",)
            if api_user_read is None
            else (*(f"c2:state.{name}:read" for name in api_user_read), "c2:camera:read")
        )
        writes = tuple(f"c2:state.{name}:write" for name in api_user_write)
        self._roles = {**ROLE_ACTIONS, Role.API: actions(*reads, *writes)}
        self._names = tuple(schema_names)
        self._grants: dict[Permissions, VariableGrant] = {}

    def actions_for(self, role: Role) -> frozenset[Action]:
        return self._roles[role]

    def permissions_for(
        self, role: Role, account: str, extra: Iterable[tuple[str, Action]] = ()
    ) -> Permissions:
        grants: list[tuple[str, Iterable[Action]]] = [(account, self._roles[role])]
        if role is Role.ADMIN and account == DEFAULT_ACCOUNT:
            # The default account's admins administer the node: every account.
            grants.append((ANY_TENANT, self._roles[role]))
        grants.extend((tenant, (action,)) for tenant, action in extra)
        return Permissions.of(grants)

    def grant_of(self, permissions: Permissions) -> VariableGrant:
        """The c2 variable grant, in this node's account (cached: few distinct sets)."""
        grant = self._grants.get(permissions)
        if grant is None:
            grant = VariableGrant.of(permissions, DEFAULT_ACCOUNT, self._names)
            if grant.read is None and grant.write is None:
                grant = ALL
            self._grants[permissions] = grant
        return grant

    def grant_for(self, role: Role) -> VariableGrant:
        return self.grant_of(self.permissions_for(role, DEFAULT_ACCOUNT))


METRICS_ACTION: Final = Action.parse("metrics:node:read")


def may_read_metrics(principal: Principal) -> bool:
    """``/metrics`` describes the whole node (every account's devices and traffic), so a
    role's ``*:*:read`` in one account is not enough: the default account's admins hold
    it, anyone else needs ``metrics:node:read`` (or ``metrics:*:read``) granted by name
    in the default account (docs/operations.md, docs/security.md)."""
    if principal.role is Role.ADMIN and principal.account == DEFAULT_ACCOUNT:
        return True
    return any(
        held.service == "metrics" and held.covers(METRICS_ACTION)
        for held in principal.permissions.actions_in(DEFAULT_ACCOUNT)
    )
