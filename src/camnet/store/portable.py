"""Statements that SQLite and PostgreSQL both run, where plain SQL differs.

``INSERT … ON CONFLICT`` exists in both engines with the same meaning, but SQLAlchemy
builds it from each dialect's own ``insert``; these helpers pick the right one from the
connection, so callers never write ``INSERT OR …`` (SQLite only) or race a
delete-then-insert against another node.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite


def _insert(connection: Connection, table: Table) -> Any:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(table)
    if connection.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"no ON CONFLICT for {connection.dialect.name}")


def insert_ignoring_duplicates(
    connection: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str] | None,
) -> int:
    """Insert the rows whose ``keys`` are not taken yet; how many were inserted.

    ``keys=None``: skip a row that conflicts on any unique constraint. With ``keys``, a
    conflict on another unique column still raises, and in PostgreSQL two transactions
    inserting the same row at once can meet on that other index first (the first start
    of several nodes: the admin's ``name`` is the key, its ``email`` unique too)."""
    if not rows:
        return 0
    insert = _insert(connection, table)
    if keys is None:
        statement = insert.on_conflict_do_nothing().returning(*table.primary_key.columns)
    else:
        statement = insert.on_conflict_do_nothing(index_elements=list(keys)).returning(
            table.c[keys[0]]
        )
    # RETURNING counts the rows really inserted (a driver's rowcount may be -1 here)
    return len(connection.execute(statement, [dict(row) for row in rows]).all())


def upsert(
    connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]], keys: Sequence[str]
) -> None:
    """Insert the rows, or update the columns of those whose ``keys`` exist."""
    if not rows:
        return
    statement = _insert(connection, table)
    columns = [name for name in rows[0] if name not in keys]
    statement = statement.on_conflict_do_update(
        index_elements=list(keys), set_={name: statement.excluded[name] for name in columns}
    )
    connection.execute(statement, [dict(row) for row in rows])
