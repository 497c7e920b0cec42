"""Permissions as the identity seed shows them: per tenant, actions ``service:resource:op``.

An action names a service (``c2``, ``identity``, …), a resource inside it (``state.light0``,
``users``, …) and an operation, ``read`` or ``write``. A granted action may use ``*`` for a
whole segment, or end a resource with ``.*`` to cover every resource under a prefix
(``c2:state.*:read``). Pure values, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal

Operation = Literal["read", "write"]

_SEGMENT: Final = re.compile(r"^(\*|[A-Za-z0-9_\-]+(\.[A-Za-z0-9_\-]+)*(\.\*)?)$")


ANY_TENANT: Final = "*"
"""A tenant entry that applies in every account: the node administrator's."""


class ActionError(ValueError):
    """An action that is not ``service:resource:read|write``."""


@dataclass(frozen=True, slots=True)
class Action:
    service: str
    resource: str
    operation: Operation

    @classmethod
    def parse(cls, text: str) -> Action:
        parts = text.split(":")
        if len(parts) != 3:
            raise ActionError(f"{text!r} is not service:resource:read|write")
        service, resource, operation = parts
        if operation not in ("read", "write"):
            raise ActionError(f"{text!r}: the operation must be read or write")
        for segment in (service, resource):
            if not _SEGMENT.match(segment):
                raise ActionError(f"{text!r}: {segment!r} is not a name or *")
        return cls(service, resource, operation)  # type: ignore[arg-type]

    def __str__(self) -> str:
        return f"{self.service}:{self.resource}:{self.operation}"

    def covers(self, wanted: Action) -> bool:
        """Whether holding this (possibly wildcard) action allows ``wanted``."""
        return (
            self.operation == wanted.operation
            and _segment_covers(self.service, wanted.service)
            and _segment_covers(self.resource, wanted.resource)
        )


def _segment_covers(granted: str, wanted: str) -> bool:
    if granted in ("*", wanted):
        return True
    if granted.endswith(".*"):
        return wanted.startswith(granted[:-1])
    return False


@dataclass(frozen=True, slots=True)
class Permissions:
    """Actions per tenant; what a token, user, client or API key may do. Hashable, so
    derived views (the c2 variable grant) can be cached per distinct set."""

    entries: tuple[tuple[str, frozenset[Action]], ...]

    def actions_in(self, tenant: str) -> frozenset[Action]:
        """Actions held in ``tenant``, including those held in every tenant (``*``)."""
        found: frozenset[Action] = frozenset()
        for name, held in self.entries:
            if name in (tenant, ANY_TENANT):
                found = found | held
        return found

    def allows(self, tenant: str, wanted: Action | str) -> bool:
        action = Action.parse(wanted) if isinstance(wanted, str) else wanted
        return any(held.covers(action) for held in self.actions_in(tenant))

    def has_tenant(self, tenant: str) -> bool:
        """Whether the holder may see anything at all of ``tenant`` (else: 404 there)."""
        return bool(self.actions_in(tenant))

    @property
    def tenants(self) -> list[str]:
        return [tenant for tenant, _ in self.entries]

    def as_json(self) -> list[dict[str, object]]:
        """The seed's verification shape: ``[{"tenant": …, "actions": [...]}]``."""
        return [
            {"tenant": tenant, "actions": sorted(str(a) for a in held)}
            for tenant, held in self.entries
        ]

    @classmethod
    def of(cls, grants: Iterable[tuple[str, Iterable[Action]]]) -> Permissions:
        merged: dict[str, set[Action]] = {}
        for tenant, held in grants:
            merged.setdefault(tenant, set()).update(held)
        return cls(
            tuple((tenant, frozenset(held)) for tenant, held in sorted(merged.items()) if held)
        )


NO_PERMISSIONS: Final = Permissions(())


def actions(*texts: str) -> frozenset[Action]:
    return frozenset(Action.parse(text) for text in texts)
