"""The token table is purged of expired tokens and indexed for the revocation check
(issue 19, item 7)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select, text

from camnet.clock import ManualClock
from camnet.identity.purge import TokenPurge, purge_expired
from camnet.identity.tokens import TokenRepository
from camnet.store import tables
from camnet.store.database import Database

NOW = 1_700_000_000.0


def count(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(tables.tokens)).scalar_one())


def test_expired_tokens_are_deleted_in_batches_and_live_ones_kept(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    try:
        tokens = TokenRepository(database.engine)
        for age in range(7):  # issued 0…6 hours ago, each for one hour and a half
            tokens.issue("access", f"f{age}", "user", 1, None, NOW - age * 3600, 5400)
        live = tokens.issue("refresh", "live", "user", 1, None, NOW, 86400)
        assert purge_expired(database.engine, NOW, batch=2) == 5
        assert count(database) == 3
        record = tokens.find(live)
        assert record is not None
        assert record.live(NOW)
        assert purge_expired(database.engine, NOW) == 0
    finally:
        database.close()


async def test_the_node_purges_at_start(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    try:
        TokenRepository(database.engine).issue("access", "f", "user", 1, None, NOW - 7200, 3600)
        purge = TokenPurge(database, ManualClock(NOW))
        assert await purge.purge() == 1
        assert count(database) == 0
    finally:
        database.close()


def test_the_revocation_check_reads_an_index_not_the_table(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    try:
        tokens = TokenRepository(database.engine)
        tokens.issue("access", "f", "user", 1, None, NOW, 3600)
        assert tokens.revocations_version() == "0:None"
        record = tokens.find(tokens.issue("access", "g", "user", 1, None, NOW, 3600))
        assert record is not None
        tokens.revoke(record.id, NOW + 1)
        assert tokens.revocations_version() == f"1:{NOW + 1}"
        query = (
            "EXPLAIN QUERY PLAN SELECT count(revoked_at), max(revoked_at) FROM tokens "
            "WHERE revoked_at IS NOT NULL"
        )
        with database.engine.connect() as connection:
            plan = " ".join(str(row[-1]) for row in connection.execute(text(query)))
            purge_plan = " ".join(
                str(row[-1])
                for row in connection.execute(
                    text("EXPLAIN QUERY PLAN SELECT id FROM tokens WHERE expires_at < 1")
                )
            )
        assert "ix_tokens_revoked_at" in plan
        assert "ix_tokens_expires_at" in purge_plan
    finally:
        database.close()
