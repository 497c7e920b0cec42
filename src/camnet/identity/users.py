"""User records with argon2id-hashed secrets; synchronous, run on the database thread."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, func, insert, select, update

from camnet.identity.permissions import Role
from camnet.store import tables

ADMIN_USER: Final = "admin"
API_USER: Final = "API-User"

_hasher = PasswordHasher()  # argon2id with the library's RFC 9106 low-memory defaults
_DUMMY_HASH: Final = _hasher.hash(secrets.token_urlsafe(16))


def generate_secret() -> str:
    """A fresh random secret: 192 bits, URL-safe, so it can travel in a query."""
    return secrets.token_urlsafe(24)


def hash_secret(secret: str) -> str:
    return _hasher.hash(secret)


def verify_secret(secret_hash: str | None, secret: str) -> bool:
    """Constant work whether or not the user exists: unknown users verify a dummy hash."""
    try:
        return _hasher.verify(secret_hash or _DUMMY_HASH, secret) and secret_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True, slots=True)
class UserRecord:
    name: str
    role: Role
    secret_hash: str
    created_at: datetime
    secret_changed_at: datetime


class UserRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, name: str) -> UserRecord | None:
        query = select(tables.users).where(tables.users.c.name == name)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        if row is None:
            return None
        return UserRecord(
            name=row.name,
            role=Role(row.role),
            secret_hash=row.secret_hash,
            created_at=row.created_at,
            secret_changed_at=row.secret_changed_at,
        )

    def create(self, name: str, role: Role, secret: str) -> None:
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            connection.execute(
                insert(tables.users).values(
                    name=name,
                    role=role.value,
                    secret_hash=hash_secret(secret),
                    created_at=now,
                    secret_changed_at=now,
                )
            )

    def secrets_version(self) -> str:
        """Changes whenever a user is added or a secret is changed, by any process."""
        query = select(func.count(), func.max(tables.users.c.secret_changed_at))
        with self._engine.connect() as connection:
            count, latest = connection.execute(query).one()
        return f"{count}:{latest}"

    def set_secret(self, name: str, secret: str) -> bool:
        with self._engine.begin() as connection:
            result = connection.execute(
                update(tables.users)
                .where(tables.users.c.name == name)
                .values(secret_hash=hash_secret(secret), secret_changed_at=datetime.now(UTC))
            )
        return result.rowcount == 1
