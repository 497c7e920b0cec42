"""The first start's users when several nodes (or processes) make it at once (issue 19).

Exactly one of them creates the users and shows the secrets it created; the others
neither fail nor show a secret, and the shown secrets are the stored ones. Run on
PostgreSQL (nodes sharing a database) and on one SQLite file (processes sharing it).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from camnet.identity.bootstrap import InitialCredentials, ensure_initial_users
from camnet.identity.users import ADMIN_USER, API_USER, UserRepository, verify_secret
from camnet.store.database import Database
from tests.postgres import scratch_database

RACERS = 3


@pytest.fixture(params=["postgresql", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        return
    with scratch_database() as url:
        yield url


def race(url: str, admin: str | None, token: str | None) -> list[InitialCredentials]:
    databases = [Database.open(url) for _ in range(RACERS)]
    results: list[InitialCredentials] = []
    errors: list[BaseException] = []
    gate = threading.Barrier(RACERS)

    def start(database: Database) -> None:
        gate.wait()
        try:
            results.append(ensure_initial_users(UserRepository(database.engine), admin, token))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for database in databases:
        database.close()
    assert not errors, errors
    return results


def test_one_creator_shows_the_generated_secrets_it_stored(database_url: str) -> None:
    results = race(database_url, None, None)
    shown = [result for result in results if result.any]
    assert len(shown) == 1, shown
    (creator,) = shown
    assert creator.admin_password is not None
    assert creator.api_token is not None
    assert creator.admin_generated
    assert creator.token_generated
    database = Database.open(database_url)
    try:
        users = UserRepository(database.engine)
        admin, api = users.get(ADMIN_USER), users.get(API_USER)
        assert admin is not None
        assert api is not None
        assert verify_secret(admin.secret_hash, creator.admin_password)
        assert verify_secret(api.secret_hash, creator.api_token)
        again = ensure_initial_users(users, None, None)
        assert not again.any
    finally:
        database.close()


def test_configured_secrets_are_reported_once_and_never_as_generated(database_url: str) -> None:
    results = race(database_url, "given-admin-password", "given-api-token")
    shown = [result for result in results if result.any]
    assert len(shown) == 1, shown
    assert not shown[0].generated
    assert shown[0].admin_password == "given-admin-password"
