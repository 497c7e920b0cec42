"""Deleting users and OAuth clients without leaving anything that still works.

A deleted subject's tokens are revoked first (a running server notices revocations within
a second, as for any revocation), its extra permission rows go with it, and only then the
row itself. Revoking first matters: SQLite reuses the highest row id, so a token that
outlived its user could otherwise name the next user created.
"""

from __future__ import annotations

import time

from sqlalchemy import Engine, delete, or_, update

from camnet.identity.clients import ClientRecord
from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.identity.users import ADMIN_USER, API_USER, UserRecord
from camnet.store import tables

PROTECTED_USERS = frozenset({ADMIN_USER, API_USER})
"""The default account's two built-in users: the c2 dialect and recovery need them."""


class RemovalError(ValueError):
    """A subject that may not be deleted."""


def delete_user(engine: Engine, user: UserRecord) -> None:
    """Delete ``user``: its tokens revoked, its permissions removed, then the row."""
    if user.account == DEFAULT_ACCOUNT and user.name in PROTECTED_USERS:
        raise RemovalError(
            f"{user.qualified} is built in and cannot be deleted; disable it or change its "
            "secret instead"
        )
    t, p = tables.tokens, tables.permissions
    with engine.begin() as connection:
        connection.execute(
            update(t)
            .where(t.c.subject_kind == "user", t.c.subject_id == user.id, t.c.revoked_at.is_(None))
            .values(revoked_at=time.time())
        )
        connection.execute(delete(p).where(p.c.subject_kind == "user", p.c.subject_id == user.id))
        connection.execute(delete(tables.users).where(tables.users.c.id == user.id))


def delete_client(engine: Engine, client: ClientRecord) -> None:
    """Delete ``client``: every token issued to it or through it (users' password grants)
    revoked and detached from it, its permissions removed, then the row."""
    t, p = tables.tokens, tables.permissions
    issued = or_(
        (t.c.subject_kind == "client") & (t.c.subject_id == client.id), t.c.client == client.id
    )
    with engine.begin() as connection:
        connection.execute(
            update(t).where(issued, t.c.revoked_at.is_(None)).values(revoked_at=time.time())
        )
        connection.execute(update(t).where(t.c.client == client.id).values(client=None))
        connection.execute(
            delete(p).where(p.c.subject_kind == "client", p.c.subject_id == client.id)
        )
        connection.execute(delete(tables.clients).where(tables.clients.c.id == client.id))
