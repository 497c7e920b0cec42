"""Expired tokens are deleted (issue 19, item 7): the token table no longer grows forever.

An expired token can do nothing: it is refused as expired whether or not its row exists,
and a refresh token's family is judged only while the token is live. So every row whose
``expires_at`` has passed is deleted, in batches (each its own short transaction, found
through ``ix_tokens_expires_at``), at start and then every ``interval`` seconds. Every
node of a cluster may run it: deleting rows already deleted is a no-op.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Final

from sqlalchemy import Engine, delete, select

from camnet.clock import Clock
from camnet.store import tables
from camnet.store.database import Database

log = logging.getLogger(__name__)

BATCH: Final = 5000
INTERVAL: Final = 3600.0


def purge_expired(engine: Engine, now: float, batch: int = BATCH) -> int:
    """Delete the tokens expired before ``now``; how many."""
    t = tables.tokens
    total = 0
    while True:
        expired = select(t.c.id).where(t.c.expires_at < now).limit(batch)
        with engine.begin() as connection:
            deleted = connection.execute(delete(t).where(t.c.id.in_(expired))).rowcount
        total += deleted
        if deleted < batch:
            return total


class TokenPurge:
    """Runs ``purge_expired`` on the database thread at start and every ``interval``."""

    def __init__(self, database: Database, clock: Clock, interval: float = INTERVAL) -> None:
        self._database = database
        self._clock = clock
        self._interval = interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="camnet-token-purge")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def purge(self) -> int:
        deleted = await self._database.run(purge_expired, self._database.engine, self._clock.now())
        if deleted:
            log.info("deleted %d expired tokens", deleted)
        return deleted

    async def _run(self) -> None:
        while True:
            try:
                await self.purge()
            except Exception:
                log.exception("purging expired tokens failed; tried again in %g s", self._interval)
            await asyncio.sleep(self._interval)
