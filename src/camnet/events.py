"""The event journal: what happened, kept before anyone is told.

An *event* is something a user's own systems may want pushed to them (a webhook, later
MQTT): a state change, an image ready, a tag created, a recording closed, a device
going online or offline, storage running low. Producers append the event **inside the
same database transaction as the change it reports** (``append_event``), so a change
that committed always has its event and a change that rolled back never has one. After
the commit the producer announces the stored event on the bus (``EventJournal.announce``)
as an ``Update`` named ``Event.<kind>``; subscribers use the announcement only as a
wake-up and read the journal itself, so an announcement lost to a crash costs nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Final

from sqlalchemy import Connection, insert, select

from camnet.bus.base import Bus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.identity.permissions import DEFAULT_ACCOUNT
from camnet.store import tables
from camnet.store.database import Database

EVENT_PREFIX: Final = "Event"


class EventKind(StrEnum):
    """The kinds of event, named as the fleet dialect's webhook ``actions`` name them."""

    STATE = "state"
    IMAGE = "image"
    TAG = "tag"
    RECORDING = "recording"
    ONLINE = "online"
    STORAGE = "storage"


def event_name(kind: EventKind) -> str:
    """The bus topic ``Name`` announcing an event of this kind: ``Event.<kind>``."""
    return f"{EVENT_PREFIX}.{kind.value}"


@dataclass(frozen=True, slots=True)
class Event:
    """One event before it is stored.

    ``source`` is the service the event is about (``machine-Service``), ``account`` the
    tenant that may see it, ``time`` unix seconds, ``payload`` a JSON object.
    """

    kind: EventKind
    source: str
    time: float
    payload: Mapping[str, Any] = field(default_factory=dict)
    account: str = DEFAULT_ACCOUNT


@dataclass(frozen=True, slots=True)
class StoredEvent:
    """An event with the journal id it was given (ids only grow)."""

    id: int
    event: Event

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.event.kind.value,
            "source": self.event.source,
            "account": self.event.account,
            "time": self.event.time,
            "payload": dict(self.event.payload),
        }


def append_event(connection: Connection, event: Event) -> StoredEvent:
    """Append an event inside the caller's open transaction; it commits with the change."""
    result = connection.execute(
        insert(tables.events).values(
            kind=event.kind.value,
            source=event.source,
            account=event.account,
            time=event.time,
            payload=dict(event.payload),
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return StoredEvent(int(key[0]), event)


def stored_event(row: Any) -> StoredEvent:
    """A journal row (``select(tables.events)``) as a stored event."""
    return StoredEvent(
        row.id,
        Event(
            kind=EventKind(row.kind),
            source=row.source,
            time=row.time,
            payload=row.payload,
            account=row.account,
        ),
    )


def events_after(connection: Connection, after_id: int, limit: int = 1000) -> list[StoredEvent]:
    """Events with an id greater than ``after_id``, oldest first, at most ``limit``.

    On PostgreSQL ids commit out of order: a reader that keeps a cursor over them must
    allow for gaps (``camnet.store.gaps``)."""
    rows = connection.execute(
        select(tables.events)
        .where(tables.events.c.id > after_id)
        .order_by(tables.events.c.id)
        .limit(limit)
    ).all()
    return [stored_event(row) for row in rows]


class EventJournal:
    """Announces stored events on the bus; the journal table is the record."""

    def __init__(self, bus: Bus) -> None:
        self._bus = bus

    async def announce(self, stored: StoredEvent | Sequence[StoredEvent]) -> None:
        """Publish ``Event.<kind>`` Updates for events whose transaction has committed."""
        items = [stored] if isinstance(stored, StoredEvent) else list(stored)
        for item in items:
            await self._bus.publish(
                Envelope(
                    Topic(
                        MessageType.UPDATE,
                        source=item.event.source,
                        name=event_name(item.event.kind),
                    ),
                    Message(value=item.to_json()),
                )
            )


async def record_event(database: Database, journal: EventJournal, event: Event) -> StoredEvent:
    """Store an event that has no change of its own to ride with, then announce it."""

    def write() -> StoredEvent:
        with database.engine.begin() as connection:
            return append_event(connection, event)

    stored = await database.run(write)
    await journal.announce(stored)
    return stored
