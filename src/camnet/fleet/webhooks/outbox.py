"""The outbox: delivery rows derived from the event journal without a gap.

The journal (``events``) is written in the same transaction as each change. The outbox
keeps a committed cursor over the journal's ids (``fleet_cursors``); ``fan_out`` reads the
events after the cursor, inserts one delivery row per matching active payload webhook, and
moves the cursor, all in one transaction. A crash before that commit leaves the cursor
where it was, so the next start derives the same rows again; nothing between "event
committed" and "delivery row exists" can be lost. (SQLite serialises writers, so journal
ids commit in order and the cursor never skips a later-committing lower id.)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from camnet.events import events_after
from camnet.fleet.tables import fleet_cursors, fleet_devices, webhook_deliveries, webhooks
from camnet.fleet.webhooks.store import parse_actions
from camnet.store import tables

CURSOR: Final = "webhooks"
BATCH: Final = 1000


def message_id(webhook_id: int, event_id: int) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry, unique per webhook."""
    return f"msg_{event_id}_{webhook_id}"


def _cursor(connection: Connection) -> int:
    value = connection.execute(
        select(fleet_cursors.c.event_id).where(fleet_cursors.c.name == CURSOR)
    ).scalar()
    if value is None:
        connection.execute(insert(fleet_cursors).values(name=CURSOR, event_id=0))
        return 0
    return int(value)


def fan_out(engine: Engine, now: float) -> tuple[int, bool]:
    """Create the delivery rows of the next batch of events; (rows made, more to do)."""
    with engine.begin() as connection:
        cursor = _cursor(connection)
        events = events_after(connection, cursor, BATCH)
        if not events:
            return 0, False
        hooks = connection.execute(
            select(webhooks).where(webhooks.c.status == 1, webhooks.c.webhook_type == "payload")
        ).all()
        devices = connection.execute(
            select(fleet_devices.c.service, fleet_devices.c.uuid, fleet_devices.c.account)
        ).all()
        uuids = {row.service: row.uuid for row in devices}
        # A device's events belong to the account the device is in now (an administrator
        # may move it), whoever wrote them.
        accounts = {row.service: row.account for row in devices}
        rows = []
        for stored in events:
            event = stored.event
            for hook in hooks:
                account = accounts.get(event.source, event.account)
                if stored.id <= hook.from_event or hook.account != account:
                    continue
                if hook.device_uuid is not None and uuids.get(event.source) != hook.device_uuid:
                    continue
                if event.kind.value not in parse_actions(hook.actions):
                    continue
                rows.append(
                    {
                        "webhook_id": hook.id,
                        "event_id": stored.id,
                        "message_id": message_id(hook.id, stored.id),
                        "state": "pending",
                        "attempts": 0,
                        "next_attempt_at": now,
                        "created_at": now,
                    }
                )
        if rows:
            connection.execute(insert(webhook_deliveries), rows)
        connection.execute(
            update(fleet_cursors)
            .where(fleet_cursors.c.name == CURSOR)
            .values(event_id=events[-1].id)
        )
        return len(rows), len(events) == BATCH


@dataclass(frozen=True, slots=True)
class Due:
    """One delivery ready to be attempted, with everything its request needs."""

    id: int
    webhook_id: int
    message_id: str
    attempts: int
    url: str
    secret: str
    data: dict[str, Any]
    kind: str
    source: str
    device_uuid: str | None
    time: float
    payload: dict[str, Any]


def due(engine: Engine, now: float, limit: int, skip: set[int], held: set[int]) -> list[Due]:
    """Pending deliveries whose time has come, oldest first, leaving out the deliveries
    in flight (``skip``) and the webhooks held back after a failure (``held``)."""
    d, w, e = webhook_deliveries, webhooks, tables.events
    query = (
        select(
            d.c.id,
            d.c.webhook_id,
            d.c.message_id,
            d.c.attempts,
            w.c.url,
            w.c.secret,
            w.c.data,
            e.c.kind,
            e.c.source,
            fleet_devices.c.uuid,
            e.c.time,
            e.c.payload,
        )
        .select_from(
            d.join(w, w.c.id == d.c.webhook_id)
            .join(e, e.c.id == d.c.event_id)
            .outerjoin(fleet_devices, fleet_devices.c.service == e.c.source)
        )
        .where(d.c.state == "pending", d.c.next_attempt_at <= now, w.c.status == 1)
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(limit)
    )
    if skip:
        query = query.where(d.c.id.not_in(skip))
    if held:
        query = query.where(d.c.webhook_id.not_in(held))
    with engine.connect() as connection:
        return [Due(*tuple(row)) for row in connection.execute(query)]


def pending_total(engine: Engine) -> int:
    d = webhook_deliveries
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(and_(d.c.state == "pending"))
            ).scalar_one()
        )
