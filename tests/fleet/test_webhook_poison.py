"""A webhook whose headers cannot be sent (issue 17, item 1): refused when created, and
when one slips into the database anyway, each attempt is recorded as failed with its
reason, its lease is given back, and the other webhooks are delivered as before."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from camnet.fleet.webhooks.store import WebhookStore
from camnet.store.database import Database
from tests.fleet.helpers import ADMIN_EMAIL, bearer, fleet_error, login, wait_until
from tests.fleet.receiver import Receiver
from tests.inprocess import InProcessServer, inprocess_server

EVENTS = 200


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def small_server(tmp_path: Path) -> Iterator[InProcessServer]:
    """Few request slots (4, so 8 leases in flight), so a leak of slots shows at once."""
    with inprocess_server(
        tmp_path,
        webhook_allow="127.0.0.0/8,::1",
        webhook_concurrency=4,
        webhook_retry_base=5,
        webhook_retry_max=60,
    ) as running:
        yield running


@pytest.mark.parametrize(
    "data",
    [
        {"headers": [{"name": "X-Key", "value": "a\x00b"}]},
        {"headers": [{"name": "X-Key", "value": "tab\tis\x01not"}]},
        {"headers": [{"name": "X-Key", "value": "del\x7f"}]},
        {"headers": [{"name": "X-Key", "value": "snow\u2603man"}]},
        {"headers": [{"name": "X-Key", "value": "c1\x85"}]},
        {"params": [{"name": "site", "value": "a\x00b"}]},
        {"params": [{"name": "si\x1bte", "value": "north"}]},
    ],
)
def test_unsendable_header_or_param_is_refused_422(
    small_server: InProcessServer, receiver: Receiver, data: dict[str, object]
) -> None:
    with small_server.client() as http:
        token = login(http, ADMIN_EMAIL, small_server.admin_password)["access_token"]
        http.headers.update(bearer(token))
        refused = http.post("/api/v1/webhooks", json={"url": receiver.url, "data": data})
        assert fleet_error(refused, 422)["error"]
        fine = http.post("/api/v1/webhooks", json={"url": receiver.url}).json()["data"]
        changed = http.put(f"/api/v1/webhooks/{fine['id']}", json={"data": data})
        assert fleet_error(changed, 422)["error"]


def test_poisoned_webhook_never_starves_a_healthy_one(
    small_server: InProcessServer, receiver: Receiver
) -> None:
    database = Database.open(f"sqlite:///{small_server.data_dir / 'camnet.sqlite3'}")
    try:
        # Written past the face's validation, as a row from an older version would be.
        poisoned = WebhookStore(database.engine).create(
            "default",
            None,
            {
                "url": receiver.url + "?poisoned=1",
                "webhook_type": "payload",
                "status": 1,
                "actions": "state",
                "data": {"headers": [{"name": "X-Key", "value": "a\x00b"}], "params": []},
            },
            time.time(),
        )
    finally:
        database.close()
    with small_server.client() as http:
        token = login(http, ADMIN_EMAIL, small_server.admin_password)["access_token"]
        auth = bearer(token)
        healthy = http.post(
            "/api/v1/webhooks", json={"url": receiver.url, "actions": "state"}, headers=auth
        ).json()["data"]
        for index in range(EVENTS):
            answer = http.get(
                "/api",
                params={"brightness": str(1 + index % 2)},
                auth=("admin", small_server.admin_password),
            )
            assert answer.status_code == 200, answer.text

        def brightness_ids() -> set[str]:
            return {
                r.headers["webhook-id"]
                for r in receiver.posts()
                if json.loads(r.body)["payload"].get("name") == "brightness"
            }

        def all_delivered() -> bool:
            small_server.clock.advance(1)  # the poisoned webhook's retries come due too
            return len(brightness_ids()) >= EVENTS

        wait_until(all_delivered, timeout=60, what=f"{EVENTS} deliveries to the healthy webhook")
        assert all("poisoned" not in r.path for r in receiver.requests)
        log = http.get(f"/api/v1/webhooks/{poisoned.id}/deliveries", headers=auth).json()["data"]
        assert log, "the poisoned webhook's attempts are recorded"
        assert {a["status"] for a in log} <= {"retry", "failed"}
        assert all("header" in (a["error"] or "") for a in log), log[:3]
        assert http.delete(f"/api/v1/webhooks/{healthy['id']}", headers=auth).status_code == 204
