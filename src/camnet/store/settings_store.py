"""Persisted state variables: one row per (service, variable)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from camnet.events import Event, StoredEvent, append_event
from camnet.store import tables
from camnet.store.database import Database
from camnet.store.portable import upsert


class SettingsStore:
    """Loads and durably saves the persisted variables of each service."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def load(self, service: str) -> dict[str, Any]:
        return await self._database.run(self._load, service)

    async def save(
        self, service: str, values: Mapping[str, Any], events: Sequence[Event] = ()
    ) -> list[StoredEvent]:
        """Commit all values, and the events that report them, in one transaction.

        Returns only once they are durable, with the stored events for the caller to
        announce; a change and its event are never one without the other.
        """
        if not values and not events:
            return []
        return await self._database.run(self._save, service, dict(values), list(events))

    def _load(self, service: str) -> dict[str, Any]:
        query = select(tables.settings.c.name, tables.settings.c.value).where(
            tables.settings.c.service == service
        )
        with self._database.engine.connect() as connection:
            return {row.name: row.value for row in connection.execute(query)}

    def _save(self, service: str, values: dict[str, Any], events: list[Event]) -> list[StoredEvent]:
        now = datetime.now(UTC)
        table = tables.settings
        with self._database.engine.begin() as connection:
            # An upsert, not delete-then-insert: two nodes sharing PostgreSQL may save the
            # same service's values at once, and neither may fail on the other's row.
            upsert(
                connection,
                table,
                [
                    {"service": service, "name": name, "value": value, "updated_at": now}
                    for name, value in values.items()
                ],
                ("service", "name"),
            )
            return [append_event(connection, event) for event in events]
