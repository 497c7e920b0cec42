"""The database: one engine, one worker thread, migrations applied at open.

SQLAlchemy's engine is synchronous; every statement of a node runs on one dedicated
thread so the event loop never blocks on the database. On SQLite that thread is also the
single writer; commits are durable (``synchronous=FULL``) before the awaiting caller
continues, which is what lets a face acknowledge a write only once it is stored.

PostgreSQL (``postgresql://…``, driver psycopg 3) is the engine for several nodes that
share identity, fleet, the event journal and the recordings' index. Each node still
runs its statements on its one thread (so its own writes keep their order), and the
nodes meet in the database: migrations take an advisory lock, the outbox takes row
locks (``camnet.fleet.webhooks.outbox``). Sessions run in UTC, so timestamps read back
mean the same on both engines.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Final, ParamSpec, TypeVar

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

P = ParamSpec("P")
T = TypeVar("T")

MIGRATION_LOCK: Final = 0x63616D6E6574  # "camnet": one migrating node at a time
POSTGRES_SCHEMES: Final = ("postgresql://", "postgresql+psycopg://", "postgres://")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: ConnectionPoolEntry) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def sqlite_engine(path: Path) -> Engine:
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def is_postgres_url(url: str) -> bool:
    return url.startswith(POSTGRES_SCHEMES)


def postgres_engine(url: str) -> Engine:
    """An engine on psycopg 3 whatever the URL's spelling, sessions in UTC.

    ``pool_pre_ping`` replaces a connection the server dropped (restart, idle timeout)
    before a statement uses it, instead of failing that statement.
    """
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    parsed = parsed.set(drivername="postgresql+psycopg")
    return create_engine(
        parsed,
        connect_args={"options": "-c timezone=UTC", "connect_timeout": 10},
        pool_pre_ping=True,
        pool_size=4,
        max_overflow=4,
    )


def engine_for(url: str) -> Engine:
    """The engine for a database URL: ``sqlite:///PATH`` or ``postgresql://…``."""
    if is_postgres_url(url):
        return postgres_engine(url)
    if url.startswith("sqlite:///"):
        return sqlite_engine(Path(url.removeprefix("sqlite:///")))
    raise ValueError("expected a sqlite:///PATH or postgresql://… database URL")


def _lock_migrations(connection: Connection) -> None:
    """Nodes starting together on one PostgreSQL database migrate one after the other;
    the lock is released with the migration's transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision (idempotent)."""
    script_location = resources.files("camnet.store") / "migrations"
    config = Config()
    config.set_main_option("script_location", str(script_location))
    with engine.begin() as connection:
        _lock_migrations(connection)
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


class StoreBusy(Exception):
    """The database stayed locked by another connection (another process holding an
    exclusive SQLite lock, a PostgreSQL lock timeout) past the wait; the transaction was
    rolled back, so nothing was written. Answered as 503: try again later."""


def _is_lock(exc: OperationalError) -> bool:
    if getattr(exc.orig, "sqlstate", None) == "55P03":  # PostgreSQL lock_not_available
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database table is locked" in message


class Database:
    """An engine plus the thread all its work runs on."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="camnet-db")

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @classmethod
    def open_sqlite(cls, path: Path) -> Database:
        engine = sqlite_engine(path)
        migrate(engine)
        return cls(engine)

    @classmethod
    def open(cls, url: str) -> Database:
        """Open (and migrate) the database at ``url``: SQLite file or PostgreSQL."""
        engine = engine_for(url)
        try:
            migrate(engine)
        except BaseException:
            engine.dispose()
            raise
        return cls(engine)

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        except OperationalError as exc:
            if _is_lock(exc):
                raise StoreBusy("the database is locked by another connection") from exc
            raise

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.dispose()
