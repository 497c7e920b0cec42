"""Outages of a two-node cluster, with real ``camnet serve`` processes (issue 19, 2–5).

- A write refused (503) while NATS is away is never applied later, however the outage
  ends: the request is not buffered, and the serving node drops a request whose deadline
  has passed.
- A WebSocket client of a remote control unit gets the values that changed while NATS was
  away, once it returns.
- A retry with the same ``Idempotency-Key`` (and body) is applied once.
- Requests to a node already known offline are answered 503 at once, and a new WebSocket
  to its control unit gets an explicit offline status instead of stale state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed

from tests.cluster.outage_support import (
    HEARTBEAT,
    Cluster,
    cluster,
    next_json,
    open_socket,
    wait_for,
    wait_for_value,
)
from tests.support import TOKEN


@pytest.fixture(scope="module")
def two(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with cluster(tmp_path_factory.mktemp("outage")) as made:
        yield made


def test_a_retry_with_the_same_idempotency_key_is_applied_once(two: Cluster) -> None:
    a, b = two.a, two.b
    before = two.value(b, "zoom0")
    key = {"Idempotency-Key": f"retry-{time.time_ns()}"}
    with a.http() as http:
        path, query = two.remote(b), {"token": TOKEN}
        first = http.post(path, params=query, json={"zoom0": 5}, headers=key)
        again = http.post(path, params=query, json={"zoom0": 5}, headers=key)
        other = http.post(path, params=query, json={"zoom0": 1}, headers=key)  # another body
        bad = http.post(path, params=query, json={"zoom0": 5}, headers={"Idempotency-Key": "a b"})
    assert first.status_code == again.status_code == other.status_code == 200
    assert again.json() == first.json() == {"zoom0": before + 5}
    assert other.json() == {"zoom0": before + 6}
    assert bad.status_code == 400, bad.text
    assert bad.json()["error"]["code"] == "invalid_idempotency_key"
    assert two.value(b, "zoom0") == before + 6


def test_a_write_refused_during_an_outage_is_never_applied(two: Cluster) -> None:
    a, b = two.a, two.b
    before = two.value(b, "zoom0")
    two.nats.kill()
    try:
        wait_for(lambda: two.read(b, ["light0"], via=a).status_code == 503, what="A to refuse")
        for _ in range(2):  # zoom0 is relative: each applied write would add 10
            refused = two.write(b, {"zoom0": 10}, via=a)
            assert refused.status_code == 503, refused.text
            assert refused.json()["error"]["code"] == "unavailable"
    finally:
        two.nats.start()
    wait_for(lambda: two.read(b, ["light0"], via=a).status_code == 200, what="A→B again")
    # A later write through A is applied on B: NATS keeps one connection's order, so any
    # request held back by the outage would have arrived before it.
    light = not two.value(b, "light1")
    wait_for(
        lambda: two.write(b, {"light1": light}, via=a).status_code == 200, what="a write via A"
    )
    assert two.value(b, "light1") is light
    assert two.value(b, "zoom0") == before


def test_a_websocket_gets_what_changed_during_an_outage(two: Cluster) -> None:
    a, b = two.a, two.b
    wait_for(lambda: two.read(b, ["light0"], via=a).status_code == 200, what="A→B")

    async def scenario() -> None:
        ws = await open_socket(a.url + two.remote(b))
        try:
            first = await next_json(ws)
            assert "light0" in first, first
            target = not two.value(b, "light0")
            two.nats.kill()
            try:
                changed = two.write(b, {"light0": target})  # on B itself: B has no bus now
                assert changed.status_code == 200, changed.text
                # An outage A noticed: B offline in A's presence (three missed heartbeats).
                wait_for(lambda: not two.online(a, b), what="B offline on A")
            finally:
                two.nats.start()
            await wait_for_value(ws, "light0", target, timeout=20)
        finally:
            await ws.close()

    asyncio.run(scenario())


def test_a_node_known_offline_is_answered_at_once(two: Cluster) -> None:
    a, b = two.a, two.b
    wait_for(lambda: two.read(b, ["light0"], via=a).status_code == 200, what="A→B")
    b.process.kill()
    try:
        # Offline after three missed heartbeats; the margin is for a busy machine.
        wait_for(
            lambda: two.read(b, ["light0"], via=a).status_code == 503,
            timeout=3 * HEARTBEAT + 10,
            what="B offline on A",
        )
        started = time.monotonic()
        refused = two.write(b, {"light1": True}, via=a)
        took = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        assert "offline" in refused.json()["error"]["message"]
        assert took < 1.0, f"{took:.2f} s: the remote timeout (3 s) was waited for"

        async def socket_of_dead_node() -> None:
            ws = await open_socket(a.url + two.remote(b))
            try:
                status = await next_json(ws)
                assert status["status"]["online"] is False, status
                assert status["status"]["machine"] == b.machine
                with pytest.raises(ConnectionClosed) as closed:
                    await next_json(ws)
                assert closed.value.rcvd is not None
                assert closed.value.rcvd.code == 1013
            finally:
                await ws.close()

        asyncio.run(socket_of_dead_node())
    finally:
        b.process.start()
    wait_for(lambda: two.read(b, ["light0"], via=a).status_code == 200, what="B back on A")
