"""Creating identity records the way an operator does, and calling the token endpoint."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx

from camnet.identity.clients import ClientRepository
from camnet.identity.permissions import Role
from camnet.identity.users import UserRepository
from camnet.store.database import Database


def basic(user: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def seed_records(
    data_dir: Path,
    *,
    accounts: tuple[str, ...] = ("test",),
    users: tuple[tuple[str, str, str, Role], ...] = (
        ("test", "test-user", "itsasecret", Role.OPERATOR),
    ),
    clients: tuple[tuple[str, str, str, tuple[str, ...]], ...] = (),
) -> None:
    """Write accounts, users and clients straight into a data directory's database."""
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    try:
        from camnet.identity.accounts import AccountRepository

        account_repo = AccountRepository(database.engine)
        for account in accounts:
            account_repo.ensure(account)
        user_repo = UserRepository(database.engine)
        for account, name, password, role in users:
            user_repo.create(name, role, password, account=account)
        client_repo = ClientRepository(database.engine)
        for owner, client_id, secret, grants in clients:
            account_repo.ensure(owner)
            client_repo.create(owner, client_id, secret, grants, Role.OPERATOR)
    finally:
        database.close()


def token_request(
    client: httpx.Client, credentials: tuple[str, str] | None, **form: str
) -> httpx.Response:
    headers = basic(*credentials) if credentials else {}
    return client.post("/oauth/token", data=form, headers=headers)


def json_of(response: httpx.Response) -> Any:
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.json()
