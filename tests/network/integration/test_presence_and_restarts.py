"""Node A stopped and restarted, and the NATS server restarted, as node B sees it.

- A stopped (SIGTERM, then SIGKILL) is offline in B's fleet list once three heartbeats
  are missed; A restarted is online again, and B serves it again.
- Restarting the NATS server (the test's own, never the machine's shared one) while
  Sets go through B to A loses none that was acknowledged: after the restart, and after
  A itself restarts, A holds the last acknowledged value or one sent after it.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path

import httpx

from tests.network.integration.nodes import (
    HEARTBEAT,
    Node,
    make_node,
    own_nats,
    serves_remote,
    wait_for,
)
from tests.outside import require_nats
from tests.support import TOKEN


def online(b: Node, a: Node) -> int:
    return int(b.fleet_devices()[a.c2]["is_online"])


def test_a_stopped_is_offline_on_b_and_back_online_when_it_returns(tmp_path: Path) -> None:
    url = require_nats()
    network = f"t{secrets.token_hex(6)}"
    a, b = make_node(tmp_path, network, url), make_node(tmp_path, network, url)
    a.process.start()
    b.process.start()
    try:
        wait_for(lambda: serves_remote(b, a), what="B to serve A")
        assert online(b, a) == 1
        for stop in (a.process.stop, a.process.kill):  # SIGTERM, then SIGKILL
            stop()
            # Offline after three missed heartbeats (0.9 s); the margin is for a busy
            # machine, the figure is not what this test measures.
            wait_for(lambda: online(b, a) == 0, timeout=3 * HEARTBEAT + 10, what="A offline")
            with b.http() as http:
                services = {s["name"]: s for s in http.get("/services/default").json()["services"]}
                assert services[a.c2]["online"] is False
                gone = http.get(
                    f"/nodes/{a.machine}/api", params={"token": TOKEN, "get": "[light0]"}
                )
                assert gone.status_code == 503
                assert gone.json()["error"]["code"] == "unavailable"
            a.process.start()
            wait_for(lambda: online(b, a) == 1, what="A online again")
            wait_for(lambda: serves_remote(b, a), what="B to serve A again")
    finally:
        b.process.stop()
        a.process.stop()


def test_restarting_nats_loses_no_acknowledged_set(tmp_path: Path) -> None:
    with own_nats(tmp_path) as nats:
        network = f"t{secrets.token_hex(6)}"
        a, b = make_node(tmp_path, network, nats.url), make_node(tmp_path, network, nats.url)
        a.process.start()
        b.process.start()
        try:
            wait_for(lambda: serves_remote(b, a), what="B to serve A")
            acknowledged: list[int] = []
            sent: list[int] = []
            restarted = threading.Event()

            def restart_nats() -> None:
                time.sleep(0.5)
                nats.kill()
                time.sleep(0.5)
                nats.start()
                restarted.set()

            restarter = threading.Thread(target=restart_nats)
            restarter.start()
            after_restart = 0
            deadline = time.monotonic() + 40
            with httpx.Client(base_url=b.url, timeout=10.0) as http:
                while after_restart < 3 and time.monotonic() < deadline:
                    was_restarted = restarted.is_set()
                    sent.append(len(sent) + 1)
                    response = http.post(
                        f"/nodes/{a.machine}/api",
                        params={"token": TOKEN},
                        json={"redGain": sent[-1]},
                    )
                    if response.status_code == 200:
                        assert response.json() == {"redGain": sent[-1]}
                        acknowledged.append(sent[-1])
                        after_restart += was_restarted
                    else:  # the bus is away: refused in the c2 dialect, never a 500
                        assert response.status_code == 503, response.text
                    time.sleep(0.02)
            restarter.join()
            assert after_restart == 3, "no Set was acknowledged after the restart"
            assert sent[-1] <= 127  # redGain's range: every value sent is distinct
            last = acknowledged[-1]

            def holds() -> bool:
                with a.http() as http:
                    got = http.get("/api", params={"token": TOKEN, "get": "[redGain]"}).json()
                return int(got["redGain"]) >= last

            wait_for(holds, what="A to hold the last acknowledged Set")
            a.process.kill()  # and it is on A's disk, not only in its memory
            a.process.start()
            with a.http() as http:
                final = int(
                    http.get("/api", params={"token": TOKEN, "get": "[redGain]"}).json()["redGain"]
                )
            assert last <= final <= sent[-1]
        finally:
            b.process.stop()
            a.process.stop()
