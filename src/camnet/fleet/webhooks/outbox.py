"""The outbox: delivery rows derived from the event journal without a gap.

The journal (``events``) is written in the same transaction as each change. The outbox
keeps a committed cursor over the journal's ids (``fleet_cursors``); ``fan_out`` reads the
events after the cursor, inserts one delivery row per matching active payload webhook, and
moves the cursor, all in one transaction. A crash before that commit leaves the cursor
where it was, so the next pass derives the same rows again (the unique (webhook, event)
key turns a second insert into nothing); nothing between "event committed" and
"delivery row exists" can be lost.

The cursor is gap-aware (``camnet.store.gaps``): on PostgreSQL ids may commit out of
order, so the cursor never moves over a missing id until it has been missing for the
settle time; the events above it are fanned out at once and remembered, and a late
event is read from the gap on a later pass.

Several nodes on one PostgreSQL database: ``fan_out`` locks the cursor row
(``FOR UPDATE SKIP LOCKED``), so one node fans out at a time and the others skip the pass;
``due`` leases the rows it returns (``claimed_by``, ``next_attempt_at`` pushed ahead by the
lease) under row locks, so no two nodes send the same delivery; a lease that outlives a
crashed node expires, and a restarted node takes its own leases back (``release``).
On SQLite the locks are no-ops: one process writes at a time anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import Connection, Engine, and_, func, or_, select, update

from camnet.events import StoredEvent, events_after, stored_event
from camnet.fleet.tables import fleet_cursors, fleet_devices, webhook_deliveries, webhooks
from camnet.fleet.webhooks.store import parse_actions
from camnet.store import tables
from camnet.store.gaps import GapCursor
from camnet.store.portable import insert_ignoring_duplicates

CURSOR: Final = "webhooks"
BATCH: Final = 1000


def message_id(webhook_id: int, event_id: int) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry, unique per webhook."""
    return f"msg_{event_id}_{webhook_id}"


def _lock_cursor(connection: Connection) -> int | None:
    """The cursor, locked for this transaction; None while another node holds it."""
    query = select(fleet_cursors.c.event_id).where(fleet_cursors.c.name == CURSOR)
    value = connection.execute(query.with_for_update(skip_locked=True)).scalar()
    if value is not None:
        return int(value)
    if connection.execute(query).scalar() is not None:
        return None  # the row exists: another node is fanning out
    insert_ignoring_duplicates(
        connection, fleet_cursors, [{"name": CURSOR, "event_id": 0}], ("name",)
    )
    value = connection.execute(query.with_for_update(skip_locked=True)).scalar()
    return None if value is None else int(value)


def _late_events(connection: Connection, cursor: GapCursor, position: int) -> list[StoredEvent]:
    """Events that have appeared in the cursor's gaps since they were seen missing."""
    open_gaps = [g for g in cursor.gaps if g.high > position]
    if not open_gaps:
        return []
    e = tables.events
    rows = connection.execute(
        select(e)
        .where(or_(*(e.c.id.between(max(g.low, position + 1), g.high) for g in open_gaps)))
        .order_by(e.c.id)
    ).all()
    return [stored_event(row) for row in rows]


def _rows(connection: Connection, events: list[StoredEvent], now: float) -> list[dict[str, Any]]:
    hooks = connection.execute(
        select(webhooks).where(webhooks.c.status == 1, webhooks.c.webhook_type == "payload")
    ).all()
    if not hooks:
        return []
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
    return rows


def fan_out(engine: Engine, now: float, cursor: GapCursor) -> tuple[int, bool, GapCursor]:
    """Create the delivery rows of the next batch of events.

    Returns (rows made, more to do, the cursor to keep): ``cursor`` itself is not
    changed, the caller keeps the returned one once this has returned (committed).
    ``now`` is the node's clock for the rows; the settle time of gaps follows it too.
    """
    with engine.begin() as connection:
        position = _lock_cursor(connection)
        if position is None:
            return 0, False, cursor
        top = max([position, *(i for i in cursor.handled if i > position)])
        late = _late_events(connection, cursor, position)
        new = events_after(connection, top, BATCH)
        events = late + new
        fresh = set(cursor.fresh(e.id for e in events))
        rows = _rows(connection, [e for e in events if e.id in fresh], now)
        made = insert_ignoring_duplicates(
            connection, webhook_deliveries, rows, ("webhook_id", "event_id")
        )
        following = cursor.advance(position, [e.id for e in events], now)
        if following.position != position:
            connection.execute(
                update(fleet_cursors)
                .where(fleet_cursors.c.name == CURSOR)
                .values(event_id=following.position)
            )
    return made, len(new) == BATCH, following


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


def due(
    engine: Engine,
    now: float,
    limit: int,
    skip: set[int],
    held: set[int],
    *,
    node: str = "",
    lease: float = 60.0,
) -> list[Due]:
    """Pending deliveries whose time has come, oldest first, leaving out the deliveries
    in flight (``skip``) and the webhooks held back after a failure (``held``).

    The rows returned are leased to ``node`` for ``lease`` seconds (locked while they
    are chosen, so another node skips them): nobody else sends them meanwhile.
    """
    d, w, e = webhook_deliveries, webhooks, tables.events
    choose = (
        select(d.c.id)
        .select_from(d.join(w, w.c.id == d.c.webhook_id))
        .where(d.c.state == "pending", d.c.next_attempt_at <= now, w.c.status == 1)
        .order_by(d.c.next_attempt_at, d.c.id)
        .limit(limit)
        .with_for_update(of=d, skip_locked=True)
    )
    if skip:
        choose = choose.where(d.c.id.not_in(skip))
    if held:
        choose = choose.where(d.c.webhook_id.not_in(held))
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
        .order_by(d.c.next_attempt_at, d.c.id)
    )
    with engine.begin() as connection:
        ids = list(connection.execute(choose).scalars())
        if not ids:
            return []
        found = [Due(*tuple(row)) for row in connection.execute(query.where(d.c.id.in_(ids)))]
        connection.execute(
            update(d).where(d.c.id.in_(ids)).values(claimed_by=node, next_attempt_at=now + lease)
        )
        return found


def release(engine: Engine, node: str, now: float) -> int:
    """Give back the leases ``node`` held when it stopped (or crashed): due at once."""
    d = webhook_deliveries
    with engine.begin() as connection:
        result = connection.execute(
            update(d)
            .where(d.c.claimed_by == node, d.c.state == "pending")
            .values(claimed_by=None, next_attempt_at=now)
        )
        return int(result.rowcount)


def pending_total(engine: Engine) -> int:
    d = webhook_deliveries
    with engine.connect() as connection:
        return int(
            connection.execute(
                select(func.count()).where(and_(d.c.state == "pending"))
            ).scalar_one()
        )
