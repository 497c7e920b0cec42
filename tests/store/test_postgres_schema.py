"""Migrations on a fresh PostgreSQL database, the same schema as on SQLite, and the
portable statements (upsert, 64-bit sizes, timestamps in UTC)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import inspect, select, text

from camnet.identity.permissions import Role
from camnet.identity.users import UserRepository
from camnet.maintenance import read_maintenance, write_maintenance
from camnet.store import tables
from camnet.store.database import Database
from camnet.store.portable import upsert
from tests.postgres import scratch_database


def _schema(database: Database) -> dict[str, set[str]]:
    inspector = inspect(database.engine)
    return {
        name: {column["name"] for column in inspector.get_columns(name)}
        for name in inspector.get_table_names()
    }


def test_migrations_run_the_same_on_both_databases(pg_url: str, tmp_path: Path) -> None:
    postgres = Database.open(pg_url)
    sqlite = Database.open(f"sqlite:///{tmp_path / 'camnet.sqlite3'}")
    try:
        assert postgres.dialect == "postgresql"
        assert sqlite.dialect == "sqlite"
        assert _schema(postgres) == _schema(sqlite)
        with postgres.engine.connect() as a, sqlite.engine.connect() as b:
            query = text("SELECT version_num FROM alembic_version")
            assert a.execute(query).scalar() == b.execute(query).scalar()
            size = inspect(postgres.engine).get_columns("recordings")
            assert next(c for c in size if c["name"] == "size")["type"].python_type is int
            assert "BIGINT" in str(next(c for c in size if c["name"] == "size")["type"])
        # opening again is a no-op, not an error
        Database.open(pg_url).close()
    finally:
        postgres.close()
        sqlite.close()


def test_nodes_starting_together_migrate_one_after_the_other() -> None:
    with scratch_database() as url:
        errors: list[BaseException] = []

        def start() -> None:
            try:
                Database.open(url).close()
            except BaseException as exc:  # reported below
                errors.append(exc)

        threads = [threading.Thread(target=start) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == []


def test_identity_and_settings_round_trip(pg_url: str) -> None:
    database = Database.open(pg_url)
    try:
        users = UserRepository(database.engine)
        users.create("pgtester", Role.OPERATOR, "a-good-password", email="pg@example.com")
        record = users.get("pgtester")
        assert record is not None
        assert record.created_at.utcoffset() is not None
        assert abs((datetime.now(UTC) - record.created_at).total_seconds()) < 60
        assert users.get_by_email("PG@example.com") is not None
        assert users.secrets_version() == users.secrets_version()
        # maintenance written twice is an upsert, not a duplicate key
        write_maintenance(database.engine, True)
        write_maintenance(database.engine, False)
        assert read_maintenance(database.engine) is False
        now = datetime.now(UTC)
        with database.engine.begin() as connection:
            rows = [{"service": "s-C2", "name": "light0", "value": {"on": True}, "updated_at": now}]
            upsert(connection, tables.settings, rows, ("service", "name"))
            rows[0]["value"] = [1, 2]
            upsert(connection, tables.settings, rows, ("service", "name"))
            stored = connection.execute(
                select(tables.settings.c.value).where(tables.settings.c.service == "s-C2")
            ).all()
        assert stored == [([1, 2],)]
    finally:
        database.close()
