"""camnet served with ``db=postgresql://…``: login, c2 state persistence, fleet devices and
webhooks; two servers on one database share users and fleet rows, and the webhook outbox
delivers each event exactly once although both nodes run a dispatcher."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from camnet.store.database import postgres_engine
from tests.fleet.helpers import ADMIN_EMAIL, bearer, login, wait_until
from tests.fleet.receiver import Receiver
from tests.inprocess import InProcessServer, inprocess_server

SETTINGS: dict[str, Any] = {
    "webhook_allow": "127.0.0.0/8,::1",
    "simulation_interval": 0.2,
    "webhook_retry_base": 0.2,
    "webhook_retry_max": 1,
    "stereo_cameras": [],
    "second_head": False,
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@contextmanager
def admin_client(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as http:
        token = login(http, ADMIN_EMAIL, server.admin_password)["access_token"]
        http.headers.update(bearer(token))
        yield http


def c2_get(server: InProcessServer, params: dict[str, str]) -> dict[str, Any]:
    with server.client() as http:
        answer = http.get("/api", params=params, auth=("admin", server.admin_password))
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body


def test_one_server_keeps_its_state_in_postgresql(pg_url: str, tmp_path: Path) -> None:
    with inprocess_server(tmp_path / "a", db=pg_url, machine_name="pgone", **SETTINGS) as a:
        assert c2_get(a, {"brightness": "5"})["brightness"] == 5
        with admin_client(a) as http:
            devices = http.get("/api/v1/devices").json()["data"]
            assert len(devices) == 1
    # a different data directory: what comes back was in PostgreSQL, not in a file
    with inprocess_server(tmp_path / "b", db=pg_url, machine_name="pgone", **SETTINGS) as a:
        assert c2_get(a, {})["brightness"] == 5
    assert not (tmp_path / "a" / "camnet.sqlite3").exists()
    engine = postgres_engine(pg_url)
    try:
        with engine.connect() as connection:
            value = connection.execute(
                text(
                    "SELECT value FROM settings WHERE service = 'pgone-C2' AND name = 'brightness'"
                )
            ).scalar()
    finally:
        engine.dispose()
    assert value == 5


def test_two_servers_share_users_fleet_and_deliver_each_event_once(
    pg_url: str, tmp_path: Path, receiver: Receiver
) -> None:
    with (
        inprocess_server(tmp_path / "a", db=pg_url, machine_name="pga", **SETTINGS) as a,
        inprocess_server(tmp_path / "b", db=pg_url, machine_name="pgb", **SETTINGS) as b,
        admin_client(a) as on_a,
        admin_client(b) as on_b,
    ):
        # users and keys made on A work on B
        made = on_a.post("/api/v1/api-keys", json={"name": "shared", "scope": "read"})
        assert made.status_code == 201, made.text
        key = made.json()["data"]["key"]
        with b.client() as http:
            listed = http.get(
                "/api/v1/devices", headers={"Authorization": f"ApiKey {key}"}, params={"limit": 100}
            )
        assert listed.status_code == 200, listed.text

        # both nodes' devices are rows of the one registry, the same seen from A and B
        def names(http: httpx.Client) -> set[str]:
            rows = http.get("/api/v1/devices", params={"limit": 100}).json()["data"]
            return {row["uuid"] for row in rows}

        assert names(on_a) == names(on_b)
        assert len(names(on_a)) >= 2
        # one webhook, made on B; state changes on both nodes
        hook = on_b.post("/api/v1/webhooks", json={"url": receiver.url, "actions": "state"}).json()[
            "data"
        ]
        values = [-3, -2, -1, 1, 2, 3]
        for value in values:
            c2_get(a, {"brightness": str(value)})
            c2_get(b, {"brightness": str(-value)})

        def brightness_seen() -> set[tuple[str, int]]:
            seen = set()
            for request in receiver.posts():
                body = json.loads(request.body)
                if body["payload"].get("name") == "brightness":
                    seen.add((body["stream_id"], body["payload"]["value"]))
            return seen

        wait_until(lambda: len(brightness_seen()) >= 2 * len(values), 30, "both nodes' events")
        engine = postgres_engine(pg_url)
        try:

            def settled() -> bool:
                with engine.connect() as connection:
                    pending = connection.execute(
                        text(
                            "SELECT count(*) FROM webhook_deliveries"
                            " WHERE webhook_id = :id AND state = 'pending'"
                        ),
                        {"id": hook["id"]},
                    ).scalar_one()
                return bool(pending == 0)

            wait_until(settled, 30, "no pending delivery")
            with engine.connect() as connection:
                delivered = set(
                    connection.execute(
                        text(
                            "SELECT message_id FROM webhook_deliveries"
                            " WHERE webhook_id = :id AND state = 'delivered'"
                        ),
                        {"id": hook["id"]},
                    ).scalars()
                )
                journal = set(
                    connection.execute(
                        text(
                            "SELECT id FROM events WHERE kind = 'state' AND id > :since"
                            " AND id <= (SELECT max(event_id) FROM webhook_deliveries"
                            " WHERE webhook_id = :id)"
                        ),
                        {"id": hook["id"], "since": hook_from_event(engine, hook["id"])},
                    ).scalars()
                )
        finally:
            engine.dispose()
        ids = Counter(request.headers["webhook-id"] for request in receiver.posts())
        assert ids, "nothing was delivered"
        assert max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
        assert delivered <= set(ids)  # the database was read first: all of it arrived
        assert {f"msg_{event}_{hook['id']}" for event in journal} <= delivered


def hook_from_event(engine: Any, webhook_id: int) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                text("SELECT from_event FROM webhooks WHERE id = :id"), {"id": webhook_id}
            ).scalar_one()
        )
