"""SIGTERM and the webhook outbox: every acknowledged event reaches the receiver.

A real server (subprocess) with a payload webhook to a loopback receiver acknowledges c2
writes (each one a ``state`` event in the journal), gets SIGTERM and must exit within
10 s through the graceful path, with no delivery left leased to it. After a restart with
the receiver answering, every event's ``webhook-id`` has arrived (at least once:
receivers de-duplicate by that id).

Three receivers: one that is down (connection refused), one that hangs (accepts and
never answers, so requests are in flight at SIGTERM), and one that is up but slow (its
answers take 1 s, so deliveries are in flight at SIGTERM and finish during the stop).
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.fleet.helpers import wait_until
from tests.fleet.receiver import Receiver
from tests.silent import SilentListener
from tests.support import ServerProcess

EXIT_WITHIN = 10.0
EVENTS = 150


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


def _database(server: ServerProcess) -> sqlite3.Connection:
    return sqlite3.connect(server.data_dir / "camnet.sqlite3")


def _hook(server: ServerProcess, url: str) -> int:
    with server.client(auth=("admin", server.admin_password)) as admin:
        made = admin.post("/api/v1/webhooks", json={"url": url, "actions": "state"})
    assert made.status_code == 201, made.text
    hook: int = made.json()["data"]["id"]
    return hook


def _write(server: ServerProcess, count: int) -> None:
    """``count`` acknowledged c2 writes, each one changing a value (one event each)."""
    with server.client(auth=("admin", server.admin_password)) as admin:
        for index in range(count):
            answer = admin.post("/api", json={"brightness": 1 + index % 2})
            assert answer.status_code == 200, answer.text


def _expected(server: ServerProcess, hook: int) -> set[str]:
    """The ``webhook-id`` of every state event the webhook subscribes to (read while the
    server is stopped: the journal is what was acknowledged)."""
    with _database(server) as db:
        (after,) = db.execute("SELECT from_event FROM webhooks WHERE id = ?", (hook,)).fetchone()
        rows = db.execute(
            "SELECT id FROM events WHERE kind = 'state' AND id > ?", (after,)
        ).fetchall()
    return {f"msg_{event}_{hook}" for (event,) in rows}


def _leased(server: ServerProcess) -> int:
    with _database(server) as db:
        (count,) = db.execute(
            "SELECT count(*) FROM webhook_deliveries WHERE claimed_by IS NOT NULL"
        ).fetchone()
    return int(count)


def _sigterm(server: ServerProcess) -> float:
    """SIGTERM; returns the seconds to exit, which must be the graceful path's."""
    process = server._process
    assert isinstance(process, subprocess.Popen)
    began = time.monotonic()
    process.send_signal(signal.SIGTERM)
    status = process.wait(EXIT_WITHIN + 5)
    took = time.monotonic() - began
    server.stop()  # reaps the output pump; the process is gone already
    assert took <= EXIT_WITHIN, f"{took:.1f} s"
    assert status == -signal.SIGTERM, f"exit status {status}: not the graceful path"
    return took


def _delivered_after_restart(server: ServerProcess, receiver: Receiver, hook: int) -> None:
    expected = _expected(server, hook)
    assert len(expected) >= EVENTS
    server.start()

    def arrived() -> set[str]:
        return {r.headers["webhook-id"] for r in receiver.posts()}

    wait_until(lambda: expected <= arrived(), timeout=60, what="every acknowledged event")
    ids = [r.headers["webhook-id"] for r in receiver.posts()]
    print(f"{len(expected)} events, {len(ids)} requests, {len(ids) - len(set(ids))} repeated")


@pytest.mark.parametrize("fault", ["down", "hangs"])
@pytest.mark.timeout(180)
def test_sigterm_with_the_receiver_down_or_hanging(server: ServerProcess, fault: str) -> None:
    receiver = Receiver().start()
    receiver.stop()  # its port is known; nothing listens there now
    hanging = SilentListener(receiver.port) if fault == "hangs" else None
    try:
        server.start()
        hook = _hook(server, receiver.url)
        _write(server, EVENTS)
        if hanging is not None:
            wait_until(lambda: hanging.connections > 0, what="a delivery in flight")
        took = _sigterm(server)
        print(f"receiver {fault}: SIGTERM to exit {took:.2f} s")
    finally:
        if hanging is not None:
            hanging.hang_up()
    assert _leased(server) == 0, "a clean stop gives its leases back"
    receiver.start()
    try:
        _delivered_after_restart(server, receiver, hook)
    finally:
        receiver.stop()


@pytest.mark.timeout(180)
def test_sigterm_with_deliveries_in_flight_to_a_slow_receiver(server: ServerProcess) -> None:
    receiver = Receiver(delay=1.0).start()
    try:
        server.start()
        hook = _hook(server, receiver.url)
        _write(server, EVENTS)
        wait_until(lambda: receiver.answering > 0, what="a delivery in flight")
        took = _sigterm(server)
        print(f"slow receiver: SIGTERM to exit {took:.2f} s")
        assert _leased(server) == 0, "a clean stop gives its leases back"
        with _database(server) as db:
            (recorded,) = db.execute(
                "SELECT count(*) FROM webhook_deliveries WHERE state = 'delivered'"
            ).fetchone()
        assert recorded > 0, "deliveries answered before the exit are committed"
        _delivered_after_restart(server, receiver, hook)
        # After the restart the outbox is empty: every delivery is marked delivered.
        with httpx.Client(base_url=server.url, auth=("admin", server.admin_password)) as http:
            wait_until(
                lambda: _backlog(http) == 0,
                what="the backlog to drain",
            )
    finally:
        receiver.stop()


def _backlog(http: httpx.Client) -> float:
    for line in http.get("/metrics").text.splitlines():
        if line.startswith("camnet_webhook_backlog "):
            return float(line.split()[1])
    raise AssertionError("no camnet_webhook_backlog in /metrics")
