"""Accounts (tenants): every user, client, API key and device belongs to exactly one."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Final

from sqlalchemy import Engine, insert, select
from sqlalchemy.exc import IntegrityError

from camnet.store import tables

ACCOUNT_NAME: Final = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class AccountError(ValueError):
    """An account name that cannot be used, or one that exists already."""


def check_account_name(name: str) -> str:
    if not ACCOUNT_NAME.match(name):
        raise AccountError(
            f"{name!r} is not an account name: 1-64 lower-case letters, digits, '_' or '-'"
        )
    return name


class AccountRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def exists(self, name: str) -> bool:
        query = select(tables.accounts.c.id).where(tables.accounts.c.name == name)
        with self._engine.connect() as connection:
            return connection.execute(query).first() is not None

    def names(self) -> list[str]:
        query = select(tables.accounts.c.name).order_by(tables.accounts.c.name)
        with self._engine.connect() as connection:
            return list(connection.execute(query).scalars())

    def create(self, name: str) -> None:
        check_account_name(name)
        try:
            with self._engine.begin() as connection:
                connection.execute(
                    insert(tables.accounts).values(name=name, created_at=datetime.now(UTC))
                )
        except IntegrityError:
            raise AccountError(f"account {name!r} exists already") from None

    def ensure(self, name: str) -> bool:
        """Create the account when missing; whether it was created."""
        if self.exists(name):
            return False
        self.create(name)
        return True
