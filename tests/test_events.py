"""The event journal: appended with the change, rolled back with it, announced after."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import insert

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope
from camnet.events import (
    Event,
    EventJournal,
    EventKind,
    append_event,
    events_after,
    record_event,
)
from camnet.store import tables
from camnet.store.database import Database
from tests.inprocess import inprocess_server
from tests.support import TOKEN


def test_an_event_rolls_back_with_its_change(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite")
    try:

        def failing_change() -> None:
            with database.engine.begin() as connection:
                append_event(connection, Event(EventKind.TAG, "m-C2", 1.0, {"tag": 1}))
                raise RuntimeError("the change failed")

        with pytest.raises(RuntimeError):
            failing_change()
        with database.engine.begin() as connection:
            kept = append_event(connection, Event(EventKind.TAG, "m-C2", 2.0, {"tag": 2}))
            connection.execute(
                insert(tables.settings).values(
                    service="s", name="n", value=1, updated_at=datetime.now(UTC)
                )
            )
        with database.engine.connect() as connection:
            stored = events_after(connection, 0)
        assert [item.event.payload for item in stored] == [{"tag": 2}]
        assert stored[0].id == kept.id
    finally:
        database.close()


def test_recorded_events_are_announced_on_the_bus(tmp_path: Path) -> None:
    async def scenario() -> list[Envelope]:
        database = Database.open_sqlite(tmp_path / "db.sqlite")
        bus = LocalBus("m")
        await bus.start()
        seen: list[Envelope] = []
        bus.subscribe(TopicFilter(name="Event.>"), seen.append)
        try:
            journal = EventJournal(bus)
            await record_event(
                database, journal, Event(EventKind.STORAGE, "m-C2", 5.0, {"free": 10})
            )
            await asyncio.sleep(0.05)
        finally:
            await bus.stop()
            database.close()
        return seen

    seen = asyncio.run(scenario())
    assert [envelope.topic.name for envelope in seen] == ["Event.storage"]
    assert seen[0].message.value["payload"] == {"free": 10}
    assert seen[0].message.value["id"] >= 1


def test_a_device_change_and_its_state_event_are_committed_together(tmp_path: Path) -> None:
    with inprocess_server(tmp_path / "data", machine_name="ev") as server:
        with server.client() as client:
            response = client.get("/api", params={"token": TOKEN, "light0": "true"})
            assert response.status_code == 200
        database = server.app.state.node.database
        with database.engine.connect() as connection:
            stored = events_after(connection, 0, limit=100000)
    changes = [
        item.event
        for item in stored
        if item.event.kind is EventKind.STATE and item.event.payload.get("name") == "light0"
    ]
    assert len(changes) == 1
    assert changes[0].source == "ev-C2"
    assert changes[0].payload == {"name": "light0", "value": True}
    assert changes[0].time == server.clock.now()
    # Measured readings (temperatures every second) are not events.
    assert not any(item.event.payload.get("name") == "oct0" for item in stored)
