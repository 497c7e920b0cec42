"""The webhook outbox on PostgreSQL with real concurrent transactions: an event whose
transaction commits after a later id's is still delivered, and two nodes never fan out
or send the same delivery twice."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from camnet.events import Event, EventKind, append_event
from camnet.fleet.tables import webhook_deliveries
from camnet.fleet.webhooks import outbox
from camnet.fleet.webhooks.store import WebhookStore
from camnet.store.database import Database
from camnet.store.gaps import GapCursor
from tests.postgres import scratch_database

SETTLE = 30.0


@pytest.fixture
def database() -> Iterator[Database]:
    """A fresh database per test: counts of delivery rows are this test's own."""
    with scratch_database() as url:
        database = Database.open(url)
        yield database
        database.close()


def _event(n: int) -> Event:
    return Event(EventKind.STATE, "pg-C2", time.time(), {"n": n})


def _webhook(database: Database) -> int:
    record = WebhookStore(database.engine).create(
        "default",
        None,
        {
            "url": "http://127.0.0.1:9/hook",
            "webhook_type": "payload",
            "status": 1,
            "actions": "state",
            "data": {},
        },
        time.time(),
    )
    return record.id


def _delivered_events(database: Database, webhook_id: int) -> list[int]:
    d = webhook_deliveries
    with database.engine.connect() as connection:
        return sorted(
            connection.execute(select(d.c.event_id).where(d.c.webhook_id == webhook_id)).scalars()
        )


def test_an_event_committed_late_is_not_skipped(database: Database) -> None:
    hook = _webhook(database)
    cursor = GapCursor(SETTLE)
    _, _, cursor = outbox.fan_out(database.engine, time.time(), cursor)
    slow = database.engine.connect()
    try:
        slow_tx = slow.begin()
        late = append_event(slow, _event(1))  # takes the lower id, commits last
        with database.engine.begin() as fast:
            early = append_event(fast, _event(2))
        assert late.id < early.id
        made, _, cursor = outbox.fan_out(database.engine, time.time(), cursor)
        assert made == 1
        assert _delivered_events(database, hook) == [early.id]
        assert cursor.position < late.id  # the cursor waits at the gap
        slow_tx.commit()
    finally:
        slow.close()
    made, _, cursor = outbox.fan_out(database.engine, time.time(), cursor)
    assert made == 1
    assert _delivered_events(database, hook) == [late.id, early.id]
    assert cursor.position == early.id
    # a cursor that trusted the order of ids would have moved past the late event:
    naive = GapCursor(settle=0.0)
    assert naive.advance(late.id - 1, [early.id], now=0.0).position == early.id


def test_a_rolled_back_id_is_passed_after_the_settle_time(database: Database) -> None:
    _webhook(database)
    cursor = GapCursor(SETTLE)
    _, _, cursor = outbox.fan_out(database.engine, 1000.0, cursor)
    with database.engine.connect() as connection:
        transaction = connection.begin()
        lost = append_event(connection, _event(3))
        transaction.rollback()
    with database.engine.begin() as connection:
        kept = append_event(connection, _event(4))
    _, _, cursor = outbox.fan_out(database.engine, 1000.0, cursor)
    assert cursor.position == lost.id - 1
    _, _, cursor = outbox.fan_out(database.engine, 1000.0 + SETTLE, cursor)
    assert cursor.position == kept.id


def test_one_node_fans_out_while_the_other_skips(database: Database) -> None:
    hook = _webhook(database)
    with database.engine.begin() as connection:
        ids = [append_event(connection, _event(n)).id for n in range(5)]
    # node A holds the cursor row (its fan-out transaction is open) ...
    with database.engine.connect() as holder:
        holder_tx = holder.begin()
        assert outbox._lock_cursor(holder) is not None
        # ... node B neither waits nor creates rows
        made, more, _ = outbox.fan_out(database.engine, time.time(), GapCursor(SETTLE))
        assert (made, more) == (0, False)
        holder_tx.rollback()
    made, _, _ = outbox.fan_out(database.engine, time.time(), GapCursor(SETTLE))
    assert made == 5
    # a second node with no memory of the first re-reads the same events: no duplicates
    made, _, _ = outbox.fan_out(database.engine, time.time(), GapCursor(SETTLE))
    assert made == 0
    assert _delivered_events(database, hook)[-5:] == ids


def test_a_due_delivery_is_leased_to_one_node(database: Database) -> None:
    _webhook(database)
    with database.engine.begin() as connection:
        append_event(connection, _event(9))
    now = time.time()
    outbox.fan_out(database.engine, now, GapCursor(SETTLE))
    with database.engine.connect() as connection:
        pending = connection.execute(
            select(func.count()).where(webhook_deliveries.c.state == "pending")
        ).scalar_one()
    first = outbox.due(database.engine, now, 10_000, set(), set(), node="a", lease=60)
    second = outbox.due(database.engine, now, 10_000, set(), set(), node="b", lease=60)
    assert len(first) == pending
    assert second == []
    # node a restarts: its leases are due again at once, for anyone
    assert outbox.release(database.engine, "a", now) == pending
    again = outbox.due(database.engine, now, 10_000, set(), set(), node="b", lease=60)
    assert {d.id for d in again} == {d.id for d in first}
