"""Throw-away PostgreSQL databases on the machine's server, one per test session.

``CREATE DATABASE camnet_test_<random>`` on 127.0.0.1:5432 (trust auth, user postgres),
dropped (``WITH (FORCE)``) afterwards, so parallel runs never share a database.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql

from tests.outside import require_server

HOST = os.environ.get("CAMNET_TEST_PG_HOST", "127.0.0.1")
PORT = int(os.environ.get("CAMNET_TEST_PG_PORT", "5432"))
USER = os.environ.get("CAMNET_TEST_PG_USER", "postgres")


def admin_dsn() -> str:
    return f"host={HOST} port={PORT} user={USER} dbname=postgres connect_timeout=5"


@contextmanager
def scratch_database(prefix: str = "camnet_test") -> Iterator[str]:
    """A fresh, empty database; yields its ``postgresql://`` URL, then drops it."""
    require_server("PostgreSQL", HOST, PORT)
    name = f"{prefix}_{secrets.token_hex(6)}"
    with psycopg.connect(admin_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield f"postgresql://{USER}@{HOST}:{PORT}/{name}"
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
