"""Where the Store keeps its data: the node's database (alone) or NATS JetStream KV (a network).

Both behind one small interface. ``change`` is a read-modify-write of one service's
object that is atomic and durable when it returns: SQLite commits it in one transaction
(``synchronous=FULL``) on the database thread; JetStream KV writes it with the revision
it read (optimistic concurrency, retried on a conflict with another node's Store) and
returns once JetStream has acknowledged the write, i.e. stored it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Protocol

from nats.js.api import KeyValueConfig, StorageType
from nats.js.client import JetStreamContext
from nats.js.errors import (
    BucketNotFoundError,
    KeyDeletedError,
    KeyNotFoundError,
    KeyWrongLastSequenceError,
    NoKeysError,
)
from nats.js.kv import KeyValue
from sqlalchemy import delete, select, update

from camnet.state.schema import JsonValue
from camnet.store import tables
from camnet.store.database import Database
from camnet.store.portable import insert_ignoring_duplicates

log = logging.getLogger(__name__)

State = dict[str, JsonValue]
Change = Callable[[State], State]


class StoreBackend(Protocol):
    """One JSON object per service, changed atomically and durably."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def load(self, service: str) -> State:
        """The service's object; empty when nothing is stored."""
        ...

    async def change(self, service: str, change: Change) -> State:
        """Apply ``change`` to the stored object and store the result; returns it once
        durable. An exception raised by ``change`` leaves the stored object as it was."""
        ...

    async def services(self) -> list[str]: ...

    async def forget(self, service: str) -> bool:
        """Drop the service's object; whether there was one."""
        ...


class DatabaseStoreBackend:
    """The Store's data in the node's own database (table ``network_store``): SQLite by
    default; plain SQLAlchemy Core, so the same on any database the node is given."""

    def __init__(self, database: Database) -> None:
        self._database = database

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def load(self, service: str) -> State:
        return await self._database.run(self._load, service)

    async def change(self, service: str, change: Change) -> State:
        return await self._database.run(self._change, service, change)

    async def services(self) -> list[str]:
        return await self._database.run(self._services)

    async def forget(self, service: str) -> bool:
        return await self._database.run(self._forget, service)

    def _load(self, service: str) -> State:
        table = tables.network_store
        with self._database.engine.connect() as connection:
            row = connection.execute(
                select(table.c.state).where(table.c.service == service)
            ).first()
        return dict(row.state) if row is not None else {}

    def _change(self, service: str, change: Change) -> State:
        table = tables.network_store
        now = datetime.now(UTC)
        with self._database.engine.begin() as connection:
            # Nodes sharing PostgreSQL may write a service's first object at once: the
            # row is made if missing (a no-op when another node made it), then read under
            # a row lock, so neither fails and neither write is lost (issue 19).
            empty = {"service": service, "state": {}, "revision": 0, "updated_at": now}
            insert_ignoring_duplicates(connection, table, [empty], ("service",))
            row = connection.execute(
                select(table.c.state, table.c.revision)
                .where(table.c.service == service)
                .with_for_update()
            ).one()
            new = change(dict(row.state))
            connection.execute(
                update(table)
                .where(table.c.service == service)
                .values(state=new, revision=row.revision + 1, updated_at=now)
            )
        return new

    def _services(self) -> list[str]:
        table = tables.network_store
        with self._database.engine.connect() as connection:
            return sorted(connection.execute(select(table.c.service)).scalars())

    def _forget(self, service: str) -> bool:
        table = tables.network_store
        with self._database.engine.begin() as connection:
            result = connection.execute(delete(table).where(table.c.service == service))
        return bool(result.rowcount)


_KEY_PLAIN: Final = re.compile(r"[A-Za-z0-9_-]")


def kv_key(service: str) -> str:
    """A KV key for a service name: characters outside ``[A-Za-z0-9_-]`` as ``=XX``."""
    return "".join(
        char if _KEY_PLAIN.fullmatch(char) else "".join(f"={b:02X}" for b in char.encode())
        for char in service
    )


def service_of_key(key: str) -> str:
    raw = bytearray()
    index = 0
    while index < len(key):
        if key[index] == "=":
            raw.append(int(key[index + 1 : index + 3], 16))
            index += 3
        else:
            raw.append(ord(key[index]))
            index += 1
    return raw.decode()


class KvStoreBackend:
    """The Store's data in a JetStream KV bucket shared by every node of the network."""

    MAX_CONFLICTS: Final = 50

    def __init__(self, jetstream: Callable[[], JetStreamContext], bucket: str) -> None:
        """``jetstream``: gives the JetStream context once the bus is connected."""
        self._jetstream = jetstream
        self.bucket = bucket
        self._kv: KeyValue | None = None

    async def start(self) -> None:
        """Open the bucket now if the bus is connected; otherwise at the first use (a
        node starts serving while NATS is away, issue 19)."""
        try:
            await self._open()
        except RuntimeError as exc:
            log.warning("the Store's bucket %s opens once NATS answers: %s", self.bucket, exc)

    async def _open(self) -> KeyValue:
        if self._kv is None:
            js = self._jetstream()
            try:
                self._kv = await js.key_value(self.bucket)
            except BucketNotFoundError:
                self._kv = await js.create_key_value(
                    KeyValueConfig(bucket=self.bucket, history=1, storage=StorageType.FILE)
                )
        return self._kv

    async def stop(self) -> None:
        self._kv = None

    async def _require(self) -> KeyValue:
        return await self._open()

    async def _read(self, service: str) -> tuple[State, int | None]:
        try:
            entry = await (await self._require()).get(kv_key(service))
        except (KeyNotFoundError, KeyDeletedError):
            return {}, None
        if entry.value is None:
            return {}, None
        state = json.loads(entry.value)
        return (state if isinstance(state, dict) else {}), entry.revision

    async def load(self, service: str) -> State:
        state, _ = await self._read(service)
        return state

    async def change(self, service: str, change: Change) -> State:
        kv = await self._require()
        key = kv_key(service)
        for _ in range(self.MAX_CONFLICTS):
            state, revision = await self._read(service)
            new = change(state)
            payload = json.dumps(new, separators=(",", ":")).encode()
            try:
                if revision is None:
                    await kv.create(key, payload)
                else:
                    await kv.update(key, payload, last=revision)
            except KeyWrongLastSequenceError:
                continue  # another Store wrote in between: read again
            return new
        raise RuntimeError(f"{service}: too many concurrent writes to the Store")

    async def services(self) -> list[str]:
        try:
            keys = await (await self._require()).keys()
        except NoKeysError:
            return []
        return sorted(service_of_key(key) for key in keys)

    async def forget(self, service: str) -> bool:
        _, revision = await self._read(service)
        if revision is None:
            return False
        await (await self._require()).purge(kv_key(service))
        return True
