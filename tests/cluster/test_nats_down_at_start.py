"""A node started while NATS is down serves at once (issue 19, item 4).

It used to serve no HTTP at all until the server answered (40 s and more). Now: HTTP
answers at once, ``/readyz`` names the missing bus, the node's own devices are online in
its own ``/services`` and take writes; once the test's own nats-server starts (never the
machine's), the node connects by itself, turns ready and meets another node.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.harness import (
    ClusterNode,
    cluster_node,
    network_name,
    require_nats_server,
    wait_until,
)
from tests.network.integration.nodes import OwnNats
from tests.support import TOKEN

STARTS_WITHIN = 20.0
"""Seconds; generous for a busy machine (the node waits 2 s for NATS, then serves)."""


def readiness(node: ClusterNode) -> tuple[int, dict[str, Any]]:
    with node.http() as http:
        answer = http.get("/readyz")
    body: dict[str, Any] = answer.json()
    return answer.status_code, body


def c2_reaches(viewer: ClusterNode, other: ClusterNode) -> bool:
    with viewer.http() as http:
        answer = http.get(f"/nodes/{other.machine}/api", params={"token": TOKEN, "get": "[light0]"})
    return answer.status_code == 200


@pytest.mark.timeout(300)  # a busy machine: nodes start slower, never hang
def test_a_node_started_while_nats_is_down_serves_and_joins_later(tmp_path: Path) -> None:
    require_nats_server()
    nats = OwnNats(tmp_path)  # a free port with no server on it, until the test starts one
    network = network_name()
    a = cluster_node(tmp_path, network, nats.url)
    b = cluster_node(tmp_path, network, nats.url)
    started = time.monotonic()
    a.process.start(STARTS_WITHIN)
    try:
        serving = time.monotonic() - started
        assert serving < STARTS_WITHIN
        with a.http() as http:
            assert http.get("/healthz").status_code == 200
        status, body = readiness(a)
        assert status == 503
        assert body["failed"] == ["bus"], body
        assert nats.url in body["checks"]["bus"], body
        assert a.services()[a.c2]["online"] is True
        assert a.fleet_devices()[a.c2]["is_online"] == 1
        with a.http() as http:
            write = http.post("/api", json={"brightness": 7}, auth=("API-User", TOKEN))
            assert write.status_code == 200, write.text
            read = http.get("/api", params={"token": TOKEN, "get": "[brightness]"})
            assert read.json()["brightness"] == 7

        nats.start()
        nats_up = time.monotonic()
        wait_until(lambda: readiness(a)[0] == 200, what="A ready once NATS answers")
        ready = time.monotonic() - nats_up
        b.process.start(60)
        wait_until(lambda: c2_reaches(a, b) and c2_reaches(b, a), what="A and B meet")
        assert b.services()[a.c2]["online"] is True
        print(f"NATS down: serving after {serving:.1f} s; ready {ready:.1f} s after NATS started")
    finally:
        b.process.stop()
        a.process.stop()
        nats.kill()
