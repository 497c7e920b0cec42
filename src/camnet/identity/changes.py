"""How a node learns that identity data changed, here or on another node (issue 19, item 7).

The identity service and the authenticator remember answers (a bearer token's session, a
verified password) and drop them when identity data changes. They used to learn of a
change by polling change counters every second, which on a cluster meant every node
scanning the token table once a second. Now:

- every commit on this node's engine that wrote identity data (users, accounts, clients,
  API keys, permissions; revocations and deletions of tokens) is announced on the bus as
  one ``Update`` ``Identity.Changed`` from ``Machine-Identity`` (no content: it only says
  "check now");
- every node that hears it (its own announcements included) wakes its watchers, which
  read the (indexed) change counters once and drop what they remember when those moved;
- the watchers still poll, as a safety net for writes no node announced (``camnet token
  rotate`` and other commands writing to the database, a notice lost in a NATS outage):
  every second with the local bus (a node alone: SQLite, or PostgreSQL without NATS),
  every ``identity_poll_nats`` seconds (setting, default 5) with NATS.

A notice goes out once the commit is done, never before: SQLAlchemy's ``commit`` event
fires before the database commits, and a node that heard a notice sent then could read
the counters before the write was visible (and then wait for its next poll, 600 s on the
cluster tests' nodes). The commit only marks the connection; the notice is sent when the
connection goes back to the pool (or begins its next transaction), the commit done.

The watchers' interface is unchanged: on a change they call their ``forget()``. A
watcher waits through ``ChangeListener.wait(timeout)``, which returns at the first
notice or when the timeout passes; a notice that arrives while the watcher is busy is
kept for its next wait, so none is missed.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Final

from sqlalchemy import Engine, Integer, cast, event, func, select

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic, service_name
from camnet.store import tables

log = logging.getLogger(__name__)

NOTICE: Final = "Identity.Changed"
LOCAL_POLL: Final = 1.0
"""Seconds between the watchers' polls with the local bus."""
TABLES: Final = frozenset({"users", "accounts", "clients", "api_keys", "permissions"})
"""Tables whose every write changes what the watchers remember."""
TOKEN_WRITES: Final = ("update", "delete")
"""Writes of ``tokens`` that do: issuing a token changes nothing anyone remembers."""
_FLAG: Final = "camnet_identity_changed"
"""On a connection's ``info``: its open transaction wrote identity data."""
_COMMITTED: Final = "camnet_identity_committed"
"""On a connection's ``info``: such a transaction was committed, not yet announced."""


class ChangeListener:
    """One watcher's wake-up: set by every notice, cleared by the watcher's wait."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def notify(self) -> None:
        self._event.set()

    async def wait(self, timeout: float) -> None:
        """Until a notice (possibly one already pending) or ``timeout`` seconds."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return
        self._event.clear()


def count_changes(engine: Engine) -> tuple[object, ...]:
    """Counters of the clients, API keys and grants, part of the identity change version
    (``IdentityService``): they move whenever one is added, disabled or revoked."""
    with engine.connect() as connection:
        clients = connection.execute(
            select(func.count(), func.sum(cast(tables.clients.c.enabled, Integer)))
        ).one()
        keys = connection.execute(
            select(func.count(), func.count(tables.api_keys.c.revoked_at))
        ).one()
        grants = connection.execute(select(func.count(tables.permissions.c.id))).one()
    return (*clients, *keys, *grants)


def _identity_write(context: Any) -> bool:
    statement = getattr(getattr(context, "compiled", None), "statement", None)
    table = getattr(getattr(statement, "table", None), "name", None)
    if table in TABLES:
        return bool(context.isinsert or context.isupdate or context.isdelete)
    if table == "tokens":
        return bool(context.isupdate or context.isdelete)
    return False


class IdentityChanges:
    """Announces this node's identity commits on the bus and wakes the watchers on every
    announcement heard."""

    def __init__(self, bus: Bus, machine: str, engine: Engine) -> None:
        self._bus = bus
        self.name = service_name(machine, "Identity")
        self._engine = engine
        self._listeners: list[ChangeListener] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._subscription: Subscription | None = None
        self._sending: set[asyncio.Task[None]] = set()
        event.listen(engine, "after_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_commit)
        event.listen(engine, "rollback", self._on_rollback)
        event.listen(engine, "begin", self._on_begin)
        event.listen(engine.pool, "checkin", self._on_checkin)

    def listener(self) -> ChangeListener:
        listener = ChangeListener()
        self._listeners.append(listener)
        return listener

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._subscription = self._bus.subscribe(
            TopicFilter(type=MessageType.UPDATE, name=NOTICE), self._on_notice
        )

    async def stop(self) -> None:
        self._loop = None
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in tuple(self._sending):
            task.cancel()
        await asyncio.gather(*self._sending, return_exceptions=True)
        event.remove(self._engine, "after_cursor_execute", self._on_execute)
        event.remove(self._engine, "commit", self._on_commit)
        event.remove(self._engine, "rollback", self._on_rollback)
        event.remove(self._engine, "begin", self._on_begin)
        event.remove(self._engine.pool, "checkin", self._on_checkin)

    def wake(self) -> None:
        for listener in self._listeners:
            listener.notify()

    # -- the database thread ------------------------------------------------------------

    def _on_execute(
        self,
        connection: Any,
        _cursor: Any,
        _statement: str,
        _parameters: Any,
        context: Any,
        _executemany: bool,
    ) -> None:
        if _identity_write(context):
            connection.info[_FLAG] = True

    def _on_commit(self, connection: Any) -> None:
        # Called before the database commits: only marks the connection (see above).
        if connection.info.pop(_FLAG, False):
            connection.info[_COMMITTED] = True

    def _on_rollback(self, connection: Any) -> None:
        connection.info.pop(_FLAG, None)

    def _on_begin(self, connection: Any) -> None:
        self._announce_committed(connection.info)

    def _on_checkin(self, _dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            self._announce_committed(record.info)

    def _announce_committed(self, info: dict[Any, Any]) -> None:
        if info.pop(_COMMITTED, False) and self._loop is not None:
            self._loop.call_soon_threadsafe(self._announce)

    # -- the event loop -----------------------------------------------------------------

    def _announce(self) -> None:
        self.wake()  # this node at once, whatever the bus's state
        notice = Envelope(
            Topic(MessageType.UPDATE, target=BROADCAST, source=self.name, name=NOTICE),
            Message(value={}),
        )
        task = asyncio.ensure_future(self._send(notice))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _send(self, notice: Envelope) -> None:
        try:
            await self._bus.publish(notice)
        except Exception as exc:  # the safety-net poll still finds the change
            log.warning("identity change notice not sent: %s", exc)

    def _on_notice(self, envelope: Envelope) -> None:
        if envelope.topic.source != self.name:
            self.wake()
