"""Nodes of one camnet network in separate processes, for the cluster tests.

Each node is a real ``camnet serve`` with its own data directory, free ports, a random
machine name and the test's NATS network name (so runs at the same time on the machine's
shared nats-server never hear each other) and, when given, a PostgreSQL database shared
by the nodes of one round. Nodes are started from threads, so that "at once" means the
processes really race through their first start.
"""

from __future__ import annotations

import os
import secrets
import shutil
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fleet.helpers import ADMIN_EMAIL, bearer, login
from tests.network.integration.nodes import NATS_SERVER
from tests.support import ADMIN_PASSWORD, ServerProcess

HEARTBEAT = 0.3
"""Seconds between heartbeats: a node gone for three (0.9 s) is offline."""
WAIT = 60.0
"""Seconds a test waits for the network to settle: long, for a machine shared by many
test runs; a healthy network settles in one or two seconds."""
CREATED_USERS = "camnet created its users"
"""The first line of the first-start secrets block (camnet.app.print_initial_credentials)."""


@dataclass
class ClusterNode:
    machine: str
    process: ServerProcess
    _token: str | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def c2(self) -> str:
        return f"{self.machine}-C2"

    @property
    def printed_secrets(self) -> bool:
        """Whether this node showed the first-start secrets (it created the users)."""
        return any(CREATED_USERS in line for line in self.process.output)

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=15.0)

    def fleet_devices(self) -> dict[str, dict[str, Any]]:
        """The fleet device list by name, as the administrator sees it (one login per
        node: hashing a password on every poll would slow the machine under test)."""
        with self.http() as http:
            if self._token is None:
                self._token = str(login(http, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"])
            response = http.get(
                "/api/v1/devices", params={"per_page": 100}, headers=bearer(self._token)
            )
        assert response.status_code == 200, response.text
        return {row["name"]: row for row in response.json()["data"]}

    def services(self) -> dict[str, dict[str, Any]]:
        """The network's services as this node lists them (``/services/default``)."""
        with self.http() as http:
            response = http.get("/services/default")
        assert response.status_code == 200, response.text
        return {row["name"]: row for row in response.json()["services"]}


def wait_until(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    """Poll ``check`` five times a second until it holds (each poll is an HTTP request
    to a node: polling faster would take the CPU the nodes need on a busy machine)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (httpx.HTTPError, AssertionError, KeyError):
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(0.2)


def network_name() -> str:
    """A NATS network of the test's own."""
    return f"t{secrets.token_hex(6)}"


def cluster_node(
    root: Path,
    network: str,
    bus: str,
    *,
    db: str | None = None,
    heartbeat: float = HEARTBEAT,
    stereo: bool = False,
    extra: str = "",
) -> ClusterNode:
    """A node (not started) of ``network`` on ``bus``; one head and, unless ``stereo``,
    no stereo camera (with it: the default one, named after the machine), so that many
    nodes start quickly on a busy machine."""
    machine = f"n{secrets.token_hex(4)}"
    data = root / machine
    data.mkdir(parents=True)
    config = root / f"{machine}.toml"
    lines = [
        f'machine_name = "{machine}"',
        f'network_name = "{network}"',
        f'bus = "{bus}"',
        f'store_bucket = "{network}"',
        f"heartbeat_interval = {heartbeat}",
        "remote_timeout = 3.0",
        "second_head = false",
        "gateway_listener = false",
    ]
    if not stereo:
        lines.append("stereo_cameras = []")
    if db is not None:
        lines.append(f'db = "{db}"')
    config.write_text("\n".join(lines) + "\n" + extra)
    # The simulated readings move once a second, not five times: many nodes share a
    # busy machine, and nothing here watches the readings.
    quiet = {"CAMNET_SIMULATION_INTERVAL": "1.0"}
    return ClusterNode(machine, ServerProcess(data, env=quiet, args=["--config", str(config)]))


def start_together(nodes: Sequence[ClusterNode], timeout: float = 60.0) -> list[str]:
    """Start every node at the same moment; the failures (a node's output), empty when
    all of them came up."""
    failures: list[str] = []
    gate = threading.Barrier(len(nodes))

    def start(node: ClusterNode) -> None:
        gate.wait()
        try:
            node.process.start(timeout)
        except RuntimeError as exc:
            failures.append(f"{node.machine}: {exc}")

    threads = [threading.Thread(target=start, args=(node,)) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return failures


def stop_all(nodes: Sequence[ClusterNode]) -> None:
    """Stop the nodes in parallel (each SIGTERM, then SIGKILL after 10 s)."""
    threads = [threading.Thread(target=node.process.stop) for node in nodes]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def require_nats_server() -> None:
    """Skip (fail under CI) unless the test can start a nats-server of its own."""
    if os.access(NATS_SERVER, os.X_OK) or shutil.which("nats-server"):
        return
    reason = f"{NATS_SERVER} is not installed"
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI=true it is required")
    pytest.skip(reason)
