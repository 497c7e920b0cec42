"""Webhooks as stored: the seed's fields, the owner account, the secret, the outbox rows
and the attempts log. Synchronous: every function runs on the database thread."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from camnet.events import EventKind
from camnet.fleet.tables import webhook_attempts, webhook_deliveries, webhooks
from camnet.fleet.webhooks.signing import new_secret
from camnet.store import tables

ACTIONS: Final = tuple(kind.value for kind in EventKind)
TYPES: Final = ("payload", "keepalive")


def parse_actions(text: str) -> frozenset[str]:
    """The kinds a comma-separated ``actions`` selects; empty means all."""
    names = {part.strip() for part in text.split(",") if part.strip()}
    return frozenset(names) if names else frozenset(ACTIONS)


@dataclass(frozen=True, slots=True)
class WebhookRecord:
    id: int
    account: str
    device_uuid: str | None
    url: str
    webhook_type: str
    status: int
    actions: str
    data: dict[str, Any]
    secret: str
    from_event: int
    disabled_reason: str | None

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "webhook_type": self.webhook_type,
            "status": self.status,
            "actions": self.actions,
            "data": self.data,
            "device_uuid": self.device_uuid,
            "disabled_reason": self.disabled_reason,
        }

    def selects(self, kind: str) -> bool:
        return kind in parse_actions(self.actions)


def _record(row: Any) -> WebhookRecord:
    m = row._mapping
    return WebhookRecord(
        id=m["id"],
        account=m["account"],
        device_uuid=m["device_uuid"],
        url=m["url"],
        webhook_type=m["webhook_type"],
        status=m["status"],
        actions=m["actions"],
        data=m["data"],
        secret=m["secret"],
        from_event=m["from_event"],
        disabled_reason=m["disabled_reason"],
    )


class WebhookStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(
        self, account: str, device_uuid: str | None, fields: Mapping[str, Any], now: float
    ) -> WebhookRecord:
        with self._engine.begin() as connection:
            last = connection.execute(select(func.max(tables.events.c.id))).scalar() or 0
            result = connection.execute(
                insert(webhooks).values(
                    account=account,
                    device_uuid=device_uuid,
                    secret=new_secret(),
                    from_event=last,
                    created_at=now,
                    **fields,
                )
            )
            key = result.inserted_primary_key
            assert key is not None
            record = self._get(connection, int(key[0]))
        assert record is not None
        return record

    def _get(self, connection: Connection, webhook_id: int) -> WebhookRecord | None:
        row = connection.execute(select(webhooks).where(webhooks.c.id == webhook_id)).first()
        return None if row is None else _record(row)

    def get(self, webhook_id: int) -> WebhookRecord | None:
        with self._engine.connect() as connection:
            return self._get(connection, webhook_id)

    def all(self, device_uuid: str | None = None) -> list[WebhookRecord]:
        query = select(webhooks).order_by(webhooks.c.id)
        if device_uuid is not None:
            query = query.where(webhooks.c.device_uuid == device_uuid)
        with self._engine.connect() as connection:
            return [_record(row) for row in connection.execute(query)]

    def change(self, webhook_id: int, fields: Mapping[str, Any]) -> WebhookRecord | None:
        values = dict(fields)
        if values.get("status") == 1:
            values["disabled_reason"] = None
        with self._engine.begin() as connection:
            if values:
                connection.execute(
                    update(webhooks).where(webhooks.c.id == webhook_id).values(**values)
                )
            return self._get(connection, webhook_id)

    def delete(self, webhook_id: int) -> bool:
        with self._engine.begin() as connection:
            connection.execute(
                delete(webhook_deliveries).where(webhook_deliveries.c.webhook_id == webhook_id)
            )
            # Its log goes with it: only the webhook could show it.
            connection.execute(
                delete(webhook_attempts).where(webhook_attempts.c.webhook_id == webhook_id)
            )
            result = connection.execute(delete(webhooks).where(webhooks.c.id == webhook_id))
        return result.rowcount == 1

    def attempts(self, webhook_id: int, limit: int = 1000) -> list[dict[str, Any]]:
        a = webhook_attempts
        query = select(a).where(a.c.webhook_id == webhook_id).order_by(a.c.id.desc()).limit(limit)
        with self._engine.connect() as connection:
            return [dict(row._mapping) for row in connection.execute(query)]

    def pending_count(self, webhook_id: int) -> int:
        d = webhook_deliveries
        with self._engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).where(d.c.webhook_id == webhook_id, d.c.state == "pending")
                ).scalar_one()
            )
