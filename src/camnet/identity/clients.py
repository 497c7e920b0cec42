"""OAuth clients: ``owner.client_id`` plus an argon2id-hashed secret and allowed grants."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Engine, Row, insert, select
from sqlalchemy.exc import IntegrityError

from camnet.identity.permissions import Role
from camnet.identity.users import hash_secret
from camnet.store import tables

GRANTS: Final = ("client_credentials", "password", "refresh_token")
CLIENT_ID: Final = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class ClientError(ValueError):
    """A client that cannot be created as asked."""


def split_client(reference: str) -> tuple[str, str]:
    """``owner.client_id`` → (owner, client_id); the client id may not contain a dot."""
    owner, sep, client_id = reference.rpartition(".")
    if not sep or not owner or not CLIENT_ID.match(client_id):
        raise ClientError(f"{reference!r} is not OWNER.CLIENT_ID")
    return owner, client_id


@dataclass(frozen=True, slots=True)
class ClientRecord:
    id: int
    owner: str
    client_id: str
    secret_hash: str
    grants: tuple[str, ...]
    role: Role
    rate_limit: int | None
    enabled: bool
    created_at: datetime

    @property
    def reference(self) -> str:
        return f"{self.owner}.{self.client_id}"

    def public(self) -> dict[str, object]:
        return {
            "owner": self.owner,
            "clientId": self.client_id,
            "grants": list(self.grants),
            "role": self.role.value,
            "rateLimit": self.rate_limit,
            "enabled": self.enabled,
            "created": self.created_at.replace(tzinfo=self.created_at.tzinfo or UTC).isoformat(),
        }


def _record(row: Row[tuple[object, ...]]) -> ClientRecord:
    m = row._mapping
    return ClientRecord(
        id=m["id"],
        owner=m["owner"],
        client_id=m["client_id"],
        secret_hash=m["secret_hash"],
        grants=tuple(m["grants"]),
        role=Role(m["role"]),
        rate_limit=m["rate_limit"],
        enabled=bool(m["enabled"]),
        created_at=m["created_at"],
    )


class ClientRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def get(self, owner: str, client_id: str) -> ClientRecord | None:
        clients = tables.clients
        query = select(clients).where(clients.c.owner == owner, clients.c.client_id == client_id)
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _record(row)

    def get_by_id(self, client: int) -> ClientRecord | None:
        with self._engine.connect() as connection:
            row = connection.execute(
                select(tables.clients).where(tables.clients.c.id == client)
            ).first()
        return None if row is None else _record(row)

    def list(self, owner: str) -> list[ClientRecord]:
        clients = tables.clients
        query = select(clients).where(clients.c.owner == owner).order_by(clients.c.client_id)
        with self._engine.connect() as connection:
            return [_record(row) for row in connection.execute(query)]

    def create(
        self,
        owner: str,
        client_id: str,
        secret: str,
        grants: tuple[str, ...],
        role: Role,
        rate_limit: int | None = None,
    ) -> ClientRecord:
        unknown = [grant for grant in grants if grant not in GRANTS]
        if unknown or not grants:
            raise ClientError(f"grants must be among {', '.join(GRANTS)}; got {list(grants)}")
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(tables.clients).values(
                        owner=owner,
                        client_id=client_id,
                        secret_hash=hash_secret(secret),
                        grants=list(grants),
                        role=role.value,
                        rate_limit=rate_limit,
                        enabled=True,
                        created_at=datetime.now(UTC),
                    )
                )
        except IntegrityError:
            raise ClientError(f"client {owner}.{client_id} exists already") from None
        record = self.get(owner, client_id)
        assert record is not None
        return record
