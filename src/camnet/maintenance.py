"""Maintenance mode, stored so that it survives restarts and is seen by every process.

While it is on, every route not meant for it answers 503 with ``Retry-After`` (the gate
does that); it is switched with ``PUT /maintenance`` or ``camnet maintenance on|off``,
which may run against the data directory of a running server: the server notices within
a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Engine, select

from camnet.identity.gate import Maintenance
from camnet.store import tables
from camnet.store.database import Database
from camnet.store.portable import upsert

log = logging.getLogger(__name__)

SERVICE: Final = "camnet"
NAME: Final = "maintenance"


def read_maintenance(engine: Engine) -> bool:
    t = tables.settings
    query = select(t.c.value).where(t.c.service == SERVICE, t.c.name == NAME)
    with engine.connect() as connection:
        value = connection.execute(query).scalar()
    return bool(value)


def write_maintenance(engine: Engine, active: bool) -> None:
    t = tables.settings
    with engine.begin() as connection:
        row = {"service": SERVICE, "name": NAME, "value": active, "updated_at": datetime.now(UTC)}
        upsert(connection, t, [row], ("service", "name"))


class MaintenanceSwitch:
    def __init__(self, database: Database, state: Maintenance, poll_interval: float = 1.0):
        self._database = database
        self.state = state
        self._poll_interval = poll_interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.state.active = await self._database.run(read_maintenance, self._database.engine)
        self._task = asyncio.create_task(self._poll(), name="camnet-maintenance-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def set(self, active: bool) -> None:
        await self._database.run(write_maintenance, self._database.engine, active)
        self.state.active = active

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                self.state.active = await self._database.run(
                    read_maintenance, self._database.engine
                )
            except Exception:
                log.exception("could not read the maintenance mode")
