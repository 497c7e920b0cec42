"""User records with argon2id-hashed secrets; synchronous, run on the database thread.

A user belongs to one account (its *domain*): ``domain\\username`` names it everywhere
outside the c2 dialect, which knows only the default account's ``admin`` and ``API-User``.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Engine, Row, func, insert, select, update

from camnet.identity.permissions import DEFAULT_ACCOUNT, Role
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


def split_qualified(name: str) -> tuple[str, str]:
    """``domain\\username`` → (domain, username); a bare name is in the default account."""
    domain, sep, username = name.partition("\\")
    return (domain, username) if sep else (DEFAULT_ACCOUNT, name)


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    account: str
    name: str
    role: Role
    secret_hash: str
    email: str | None
    enabled: bool
    version: int
    created_at: datetime
    secret_changed_at: datetime

    @property
    def qualified(self) -> str:
        return f"{self.account}\\{self.name}"

    def public(self) -> dict[str, object]:
        """What the API shows of a user: never the hash."""
        return {
            "account": self.account,
            "username": self.name,
            "role": self.role.value,
            "email": self.email,
            "enabled": self.enabled,
            "version": self.version,
            "created": self.created_at.replace(tzinfo=self.created_at.tzinfo or UTC).isoformat(),
        }


def _record(row: Row[tuple[object, ...]]) -> UserRecord:
    mapping = row._mapping
    return UserRecord(
        id=mapping["id"],
        account=mapping["account"],
        name=mapping["name"],
        role=Role(mapping["role"]),
        secret_hash=mapping["secret_hash"],
        email=mapping["email"],
        enabled=bool(mapping["enabled"]),
        version=mapping["version"],
        created_at=mapping["created_at"],
        secret_changed_at=mapping["secret_changed_at"],
    )


class UserRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """For a caller that writes users in a transaction of its own (the first start)."""
        return self._engine

    def get(self, name: str, account: str = DEFAULT_ACCOUNT) -> UserRecord | None:
        users = tables.users
        query = select(users).where(users.c.account == account, users.c.name == name)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _record(row)

    def get_by_id(self, user_id: int) -> UserRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(tables.users).where(tables.users.c.id == user_id)
            ).first()
        return None if row is None else _record(row)

    def get_by_email(self, email: str) -> UserRecord | None:
        query = select(tables.users).where(func.lower(tables.users.c.email) == email.lower())
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _record(row)

    def list(self, account: str) -> list[UserRecord]:
        users = tables.users
        query = select(users).where(users.c.account == account).order_by(users.c.name)
        with self._engine.connect() as connection:
            return [_record(row) for row in connection.execute(query)]

    def create(
        self,
        name: str,
        role: Role,
        secret: str,
        *,
        account: str = DEFAULT_ACCOUNT,
        email: str | None = None,
    ) -> UserRecord:
        now = datetime.now(UTC)
        with self._engine.begin() as connection:
            connection.execute(
                insert(tables.users).values(
                    account=account,
                    name=name,
                    role=role.value,
                    secret_hash=hash_secret(secret),
                    email=email,
                    enabled=True,
                    version=1,
                    created_at=now,
                    secret_changed_at=now,
                )
            )
        record = self.get(name, account)
        assert record is not None
        return record

    def secrets_version(self) -> str:
        """Changes whenever a user is added, changed or a secret is set, by any process."""
        users = tables.users
        query = select(func.count(), func.max(users.c.secret_changed_at), func.sum(users.c.version))
        with self._engine.connect() as connection:
            count, latest, versions = connection.execute(query).one()
        return f"{count}:{latest}:{versions}"

    def set_secret(self, name: str, secret: str, account: str = DEFAULT_ACCOUNT) -> bool:
        users = tables.users
        with self._engine.begin() as connection:
            result = connection.execute(
                update(users)
                .where(users.c.account == account, users.c.name == name)
                .values(
                    secret_hash=hash_secret(secret),
                    secret_changed_at=datetime.now(UTC),
                    version=users.c.version + 1,
                )
            )
        return result.rowcount == 1

    def change(
        self,
        account: str,
        name: str,
        expected_version: int | None,
        *,
        email: str | object | None = ...,
        enabled: bool | None = None,
        role: Role | None = None,
        password: str | None = None,
    ) -> UserRecord | None:
        """Apply a change atomically; ``None`` when the version no longer matches (or the
        user is gone). ``email=...`` leaves the email alone."""
        users = tables.users
        values: dict[str, object] = {"version": users.c.version + 1}
        if email is not ...:
            values["email"] = email
        if enabled is not None:
            values["enabled"] = enabled
        if role is not None:
            values["role"] = role.value
        if password is not None:
            values["secret_hash"] = hash_secret(password)
            values["secret_changed_at"] = datetime.now(UTC)
        condition = [users.c.account == account, users.c.name == name]
        if expected_version is not None:
            condition.append(users.c.version == expected_version)
        with self._engine.begin() as connection:
            result = connection.execute(update(users).where(*condition).values(**values))
        if result.rowcount != 1:
            return None
        return self.get(name, account)
