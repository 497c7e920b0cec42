"""Webhook ids are never reused (issue 17, item 10): a webhook made after another was
deleted gets a new id and an empty delivery log, whoever makes it; and a database from
before the fix (revision 0007) is migrated so that even ids deleted then stay unused."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from importlib import resources
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import insert, select

from camnet.fleet.tables import webhook_attempts, webhooks
from camnet.fleet.webhooks.store import WebhookStore
from camnet.store.database import Database, migrate, sqlite_engine
from tests.fleet.conftest import OTHER_EMAIL, PASSWORD
from tests.fleet.helpers import ADMIN_EMAIL, bearer, login, wait_until
from tests.fleet.receiver import Receiver
from tests.inprocess import InProcessServer
from tests.postgres import scratch_database


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


def test_a_new_webhook_never_gets_a_deleted_ones_id_or_log(
    fleet_server: InProcessServer, receiver: Receiver
) -> None:
    with fleet_server.client() as admin, fleet_server.client() as other:
        admin.headers.update(
            bearer(login(admin, ADMIN_EMAIL, fleet_server.admin_password)["access_token"])
        )
        other.headers.update(bearer(login(other, OTHER_EMAIL, PASSWORD)["access_token"]))
        first = admin.post("/api/v1/webhooks", json={"url": receiver.url, "actions": "state"})
        hook = first.json()["data"]
        with fleet_server.client() as c2:
            answer = c2.get(
                "/api", params={"brightness": "5"}, auth=("admin", fleet_server.admin_password)
            )
            assert answer.status_code == 200
            answer = c2.get(
                "/api", params={"brightness": "6"}, auth=("admin", fleet_server.admin_password)
            )
            assert answer.status_code == 200

        def logged() -> bool:
            return bool(admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["data"])

        wait_until(logged, what="the first webhook's delivery log")
        assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
        seen = {hook["id"]}
        for client in (other, admin):
            made = client.post("/api/v1/webhooks", json={"url": receiver.url, "status": 0})
            assert made.status_code == 201, made.text
            new = made.json()["data"]
            assert new["id"] not in seen, "a deleted webhook's id was given again"
            seen.add(new["id"])
            log = client.get(f"/api/v1/webhooks/{new['id']}/deliveries").json()["data"]
            assert log == [], "a new webhook shows another's delivery log"
            assert client.delete(f"/api/v1/webhooks/{new['id']}").status_code == 204


def test_migration_keeps_ids_deleted_before_it_unused(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "old.sqlite3")
    config = Config()
    config.set_main_option("script_location", str(resources.files("camnet.store") / "migrations"))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0007")
    row = {
        "account": "default",
        "url": "http://127.0.0.1:9/",
        "webhook_type": "payload",
        "status": 0,
        "actions": "",
        "data": {"headers": [], "params": []},
        "secret": "whsec_x",
        "from_event": 0,
        "created_at": 0.0,
    }
    with engine.begin() as connection:
        connection.execute(insert(webhooks).values(id=3, **row))
        # Webhook 9 was deleted before the fix; its attempts are still in the log.
        connection.execute(
            insert(webhook_attempts).values(
                webhook_id=9, kind="payload", at=0.0, outcome="failed", error="x"
            )
        )
    migrate(engine)
    engine.dispose()
    database = Database.open(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    try:
        store = WebhookStore(database.engine)
        fields = {k: row[k] for k in ("url", "webhook_type", "status", "actions", "data")}
        made = store.create("default", None, fields, 1.0)
        assert made.id > 9
        store.delete(made.id)
        again = store.create("default", None, fields, 2.0)
        assert again.id > made.id
        with database.engine.connect() as connection:
            assert connection.execute(select(webhooks.c.id).where(webhooks.c.id == 3)).scalar()
    finally:
        database.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_store_never_gives_an_id_twice(tmp_path: Path, kind: str) -> None:
    with ExitStack() as stack:
        url = (
            stack.enter_context(scratch_database("camnet_webhook_ids"))
            if kind == "postgresql"
            else f"sqlite:///{tmp_path / 'ids.sqlite3'}"
        )
        database = Database.open(url)
        stack.callback(database.close)
        store = WebhookStore(database.engine)
        fields = {
            "url": "http://127.0.0.1:9/",
            "webhook_type": "payload",
            "status": 0,
            "actions": "",
            "data": {"headers": [], "params": []},
        }
        given = []
        for moment in range(3):
            made = store.create("default", None, fields, float(moment))
            given.append(made.id)
            assert store.delete(made.id)
        assert len(set(given)) == 3, given
