"""``kill -9`` with 1,000 undelivered events: every one is delivered after the restart.

camnet runs as a real subprocess (``python -m camnet serve``); the receiver is down while
the events happen, the server is killed with SIGKILL, the receiver comes back, the server
restarts, and the receiver must end up with every event's ``webhook-id``."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.fleet.helpers import ADMIN_EMAIL, bearer, login, wait_until
from tests.fleet.receiver import Receiver
from tests.support import ServerProcess

EVENTS = 1000


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(
        tmp_path / "data",
        env={
            "CAMNET_WEBHOOK_ALLOW": "127.0.0.0/8",
            "CAMNET_WEBHOOK_RETRY_BASE": "0.2",
            "CAMNET_WEBHOOK_RETRY_MAX": "1",
            "CAMNET_WEBHOOK_MAX_ATTEMPTS": "100",
        },
    )
    yield process
    process.stop()


def state_events(data_dir: Path, after: int) -> list[int]:
    with sqlite3.connect(data_dir / "camnet.sqlite3") as db:
        rows = db.execute(
            "SELECT id FROM events WHERE kind = 'state' AND id > ? ORDER BY id", (after,)
        ).fetchall()
    return [row[0] for row in rows]


@pytest.mark.timeout(300)
def test_kill_9_with_1000_undelivered_events(server: ServerProcess) -> None:
    receiver = Receiver().start()
    receiver.stop()  # its port is known; nothing listens there now
    server.start()
    with httpx.Client(base_url=server.url, timeout=10) as http:
        token = login(http, ADMIN_EMAIL, server.admin_password)["access_token"]
        made = http.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "actions": "state"},
            headers=bearer(token),
        )
        assert made.status_code == 201, made.text
        hook = made.json()["data"]
        for index in range(EVENTS):
            answer = http.get(
                "/api",
                params={"brightness": str(1 + index % 2)},
                auth=("admin", server.admin_password),
            )
            assert answer.status_code == 200
    wait_until(
        lambda: len(state_events(server.data_dir, 0)) >= EVENTS,
        what="the events in the journal",
    )
    server.kill()
    expected = {f"msg_{event}_{hook['id']}" for event in state_events(server.data_dir, 0)}
    assert len(expected) >= EVENTS
    receiver.start()
    try:
        server.start()
        verifier = Webhook(hook["secret"])

        def all_delivered() -> bool:
            return expected <= {r.headers["webhook-id"] for r in receiver.posts()}

        wait_until(all_delivered, timeout=120, what="every event after the restart")
        for request in receiver.posts()[:50]:
            verifier.verify(request.body, request.headers)
    finally:
        receiver.stop()
