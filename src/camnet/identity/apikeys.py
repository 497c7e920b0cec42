"""Long-lived API keys for machine-to-machine use: random, shown once, stored as digests."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError

from camnet.identity.permissions import Role
from camnet.identity.tokens import digest
from camnet.store import tables

KEY_PREFIX: Final = "cnk_"
KEY_NAME: Final = re.compile(r"^[A-Za-z0-9_\-.]{1,64}$")


class ApiKeyError(ValueError):
    """An API key that cannot be created as asked."""


def new_key() -> str:
    """``cnk_`` and 256 random bits; the prefix lets secret scanners recognise a leak."""
    return KEY_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class ApiKeyRecord:
    id: int
    account: str
    name: str
    role: Role
    created_at: datetime
    revoked_at: datetime | None

    def public(self) -> dict[str, object]:
        return {
            "account": self.account,
            "name": self.name,
            "role": self.role.value,
            "created": self.created_at.replace(tzinfo=self.created_at.tzinfo or UTC).isoformat(),
            "revoked": self.revoked_at.replace(tzinfo=self.revoked_at.tzinfo or UTC).isoformat()
            if self.revoked_at
            else None,
        }


def _record(row: Row[tuple[object, ...]]) -> ApiKeyRecord:
    m = row._mapping
    return ApiKeyRecord(
        id=m["id"],
        account=m["account"],
        name=m["name"],
        role=Role(m["role"]),
        created_at=m["created_at"],
        revoked_at=m["revoked_at"],
    )


class ApiKeyRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, account: str, name: str, role: Role) -> tuple[ApiKeyRecord, str]:
        if not KEY_NAME.match(name):
            raise ApiKeyError(f"{name!r} is not a key name: 1-64 letters, digits, '_-.'")
        key = new_key()
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(tables.api_keys).values(
                        account=account,
                        name=name,
                        key_hash=digest(key),
                        role=role.value,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise ApiKeyError(f"API key {name!r} exists already in {account}") from None
        record = self.get(account, name)
        assert record is not None
        return record, key

    def get(self, account: str, name: str) -> ApiKeyRecord | None:
        k = tables.api_keys
        with self._engine.connect() as connection:
            row = connection.execute(
                select(k).where(k.c.account == account, k.c.name == name)
            ).first()
        return None if row is None else _record(row)

    def find(self, key: str) -> ApiKeyRecord | None:
        """The live key presented, or None (unknown or revoked)."""
        k = tables.api_keys
        query = select(k).where(k.c.key_hash == digest(key), k.c.revoked_at.is_(None))
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _record(row)

    def list(self, account: str) -> list[ApiKeyRecord]:
        k = tables.api_keys
        with self._engine.connect() as connection:
            rows = connection.execute(select(k).where(k.c.account == account).order_by(k.c.name))
            return [_record(row) for row in rows]

    def revoke(self, account: str, name: str) -> bool:
        k = tables.api_keys
        with self._engine.begin() as connection:
            result = connection.execute(
                update(k)
                .where(k.c.account == account, k.c.name == name, k.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC))
            )
        return result.rowcount == 1
