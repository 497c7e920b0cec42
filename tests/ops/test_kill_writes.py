"""``kill -9`` in the middle of writes: nothing acknowledged is lost.

Three writers run against a real server (subprocess) at once, each as fast as its
answers come: c2 writes (``POST /api``), fleet device edits (``PUT
/api/v1/devices/{uuid}``) and fleet webhook creations (``POST /api/v1/webhooks``). The
server is killed with SIGKILL while they run. After the restart each acknowledged write
is there; the one write in flight at the kill (sent, never answered) may or may not be.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.fleet.helpers import wait_until
from tests.support import ServerProcess

ACKS_BEFORE_KILL = 20


@dataclass
class Writer:
    """Writes ``value(i)`` for i = 0, 1, … until the server goes away; remembers what
    was acknowledged and what was in flight when it went."""

    send: Callable[[httpx.Client, int], httpx.Response]
    acknowledged: list[int] = field(default_factory=list)
    in_flight: int | None = None
    refused: list[str] = field(default_factory=list)

    def run(self, server: ServerProcess) -> threading.Thread:
        def loop() -> None:
            with server.client(auth=("admin", server.admin_password)) as http:
                index = 0
                while True:
                    self.in_flight = index
                    try:
                        answer = self.send(http, index)
                    except httpx.TransportError:
                        return  # killed: this one was sent and never answered
                    if not answer.is_success:
                        self.refused.append(answer.text)
                        return
                    self.acknowledged.append(index)
                    self.in_flight = None
                    index += 1

        thread = threading.Thread(target=loop, daemon=True)
        thread.start()
        return thread

    def possible(self) -> set[int]:
        """What the last write that took effect may be: the last acknowledged one, or
        the one in flight at the kill."""
        last = {self.acknowledged[-1]} if self.acknowledged else set()
        return last | ({self.in_flight} if self.in_flight is not None else set())


def gain(index: int) -> int:
    return index % 43  # 0..42, never the same twice in a row


def test_acknowledged_writes_survive_kill_9_during_writes(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAMNET_WEBHOOK_ALLOW": "127.0.0.0/8"})
    server.start()
    try:
        with server.client(auth=("admin", server.admin_password)) as admin:
            devices = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"]
        uuid = devices[0]["uuid"]

        def c2(http: httpx.Client, index: int) -> httpx.Response:
            return http.post("/api", json={"gain": gain(index)})

        def device(http: httpx.Client, index: int) -> httpx.Response:
            return http.put(f"/api/v1/devices/{uuid}", json={"name": f"cell-{index}"})

        def webhook(http: httpx.Client, index: int) -> httpx.Response:
            hook = {"url": f"http://127.0.0.1:9/hook-{index}", "actions": "state"}
            return http.post("/api/v1/webhooks", json=hook)

        writers = [Writer(c2), Writer(device), Writer(webhook)]
        threads = [writer.run(server) for writer in writers]
        wait_until(
            lambda: all(len(w.acknowledged) >= ACKS_BEFORE_KILL for w in writers),
            timeout=60,
            what="every writer to be acknowledged a few times",
        )
        server.kill()
        for thread in threads:
            thread.join(10)
        assert [w.refused for w in writers] == [[], [], []]
        c2_writer, device_writer, webhook_writer = writers

        server.start()
        with server.client(auth=("admin", server.admin_password)) as admin:
            state: dict[str, Any] = admin.get("/api", params={"get": "[gain]"}).json()
            assert state["gain"] in {gain(i) for i in c2_writer.possible()}
            name = admin.get(f"/api/v1/devices/{uuid}").json()["name"]
            assert name in {f"cell-{i}" for i in device_writer.possible()}
            listed = admin.get("/api/v1/webhooks", params={"per_page": 100}).json()
        urls = {hook["url"] for hook in listed["data"]}
        acknowledged = {f"http://127.0.0.1:9/hook-{i}" for i in webhook_writer.acknowledged}
        assert acknowledged <= urls, sorted(acknowledged - urls)
        maybe = {f"http://127.0.0.1:9/hook-{webhook_writer.in_flight}"}
        assert urls - acknowledged <= maybe
        print(
            f"acknowledged before the kill: {len(c2_writer.acknowledged)} c2, "
            f"{len(device_writer.acknowledged)} device, {len(acknowledged)} webhook writes"
        )
    finally:
        server.stop()
