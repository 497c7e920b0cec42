"""First start: create ``admin`` and ``API-User`` with random (or operator-given) secrets.

Several nodes may make their first start at the same moment on one PostgreSQL database
(issue 19). The users are therefore created with ``INSERT … ON CONFLICT DO NOTHING`` in
one transaction, both in the same order, and a node reports as created only the rows its
own statement really inserted: exactly one node shows the first-start secrets, and a
node that lost the race neither fails nor shows a secret that is not the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from camnet.identity.permissions import DEFAULT_ACCOUNT, Role
from camnet.identity.users import (
    ADMIN_USER,
    API_USER,
    UserRepository,
    generate_secret,
    hash_secret,
)
from camnet.store import tables
from camnet.store.portable import insert_ignoring_duplicates


@dataclass(frozen=True, slots=True)
class InitialCredentials:
    """Secrets created on this start, to be shown to the operator exactly once."""

    admin_password: str | None
    api_token: str | None
    generated: bool
    admin_generated: bool = False
    token_generated: bool = False

    @property
    def any(self) -> bool:
        return self.admin_password is not None or self.api_token is not None


@dataclass(frozen=True, slots=True)
class _Wanted:
    name: str
    role: Role
    given: str | None
    email: str | None


def _create(connection: Connection, user: _Wanted, secret: str) -> bool:
    """Insert the user unless another node (or process) has; whether this one did."""
    now = datetime.now(UTC)
    row = {
        "account": DEFAULT_ACCOUNT,
        "name": user.name,
        "role": user.role.value,
        "secret_hash": hash_secret(secret),
        "email": user.email,
        "enabled": True,
        "version": 1,
        "created_at": now,
        "secret_changed_at": now,
    }
    # Any conflict, not only on (account, name): nodes starting together race through
    # this insert, and PostgreSQL may find the other node's admin on the unique email
    # first. Whether the user exists afterwards is checked by the caller.
    return insert_ignoring_duplicates(connection, tables.users, [row], None) == 1


def ensure_initial_users(
    users: UserRepository,
    admin_password: str | None,
    api_token: str | None,
    admin_email: str | None = "admin@localhost",
) -> InitialCredentials:
    """Create the two c2 users if missing; given secrets are used only at creation."""
    wanted = [
        _Wanted(ADMIN_USER, Role.ADMIN, admin_password, admin_email),
        _Wanted(API_USER, Role.API, api_token, None),
    ]
    missing = [user for user in wanted if users.get(user.name) is None]
    if not missing:  # every later start: no hashing, no write
        return InitialCredentials(None, None, False)
    chosen = {user.name: user.given or generate_secret() for user in missing}
    with users.engine.begin() as connection:
        created = {user.name for user in missing if _create(connection, user, chosen[user.name])}
    absent = [user.name for user in missing if users.get(user.name) is None]
    if absent:  # not another node's row: another user holds the email meant for it
        raise RuntimeError(f"could not create the initial users {absent}: email taken")
    admin = chosen[ADMIN_USER] if ADMIN_USER in created else None
    token = chosen[API_USER] if API_USER in created else None
    admin_generated = admin is not None and admin_password is None
    token_generated = token is not None and api_token is None
    return InitialCredentials(
        admin,
        token,
        admin_generated or token_generated,
        admin_generated=admin_generated,
        token_generated=token_generated,
    )
