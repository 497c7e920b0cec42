"""Two camnet nodes in separate processes on one NATS server, for the integration tests.

Every node of a test joins a network of its own (``network_name``, a random name), so
runs at the same time on the machine's shared nats-server never hear each other; each
node has a random machine name and stereo mxid, its own data directory and free ports.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fleet.helpers import ADMIN_EMAIL, bearer, login
from tests.support import ADMIN_PASSWORD, TOKEN, ServerProcess

ADMIN = ("admin", ADMIN_PASSWORD)
HEARTBEAT = 0.3
"""Seconds between heartbeats: a node gone for three (0.9 s) is offline."""
NATS_SERVER = "/usr/sbin/nats-server"


@dataclass
class Node:
    machine: str
    mxid: str
    process: ServerProcess

    @property
    def url(self) -> str:
        return self.process.url

    @property
    def c2(self) -> str:
        return f"{self.machine}-C2"

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=15.0)

    def fleet_devices(self) -> dict[str, dict[str, Any]]:
        """The fleet device list by name (a fresh login each time: the node may restart)."""
        with self.http() as http:
            token = login(http, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
            response = http.get("/api/v1/devices", params={"per_page": 100}, headers=bearer(token))
        assert response.status_code == 200, response.text
        return {row["name"]: row for row in response.json()["data"]}


def make_node(root: Path, network: str, bus: str, heartbeat: float = HEARTBEAT) -> Node:
    machine = f"n{secrets.token_hex(4)}"
    mxid = f"M{secrets.token_hex(6).upper()}"
    data = root / machine
    data.mkdir(parents=True)
    config = data.parent / f"{machine}.toml"
    config.write_text(
        f'machine_name = "{machine}"\n'
        f'network_name = "{network}"\n'
        f'bus = "{bus}"\n'
        f"heartbeat_interval = {heartbeat}\n"
        f"remote_timeout = 3.0\n"
        f'stereo_cameras = ["{mxid}"]\n'
        "second_head = false\n"
    )
    process = ServerProcess(data, args=["--config", str(config)])
    return Node(machine, mxid, process)


def wait_for(check: Callable[[], bool], timeout: float = 20.0, what: str = "") -> float:
    """Poll until ``check()``; the seconds it took. Fails with ``what`` on timeout."""
    start = time.monotonic()
    while True:
        try:
            if check():
                return time.monotonic() - start
        except (httpx.HTTPError, AssertionError):
            pass
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def serves_remote(b: Node, a: Node) -> bool:
    """Whether B serves A's control unit (c2) and stereo camera (streams) yet."""
    with b.http() as http:
        c2 = http.get(f"/nodes/{a.machine}/api", params={"token": TOKEN, "get": "[light0]"})
        streams = http.get(f"/cameras/{a.mxid}/streams/CAM_A/control", auth=ADMIN)
    return c2.status_code == 200 and streams.status_code == 200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class OwnNats:
    """A nats-server of the test's own (JetStream on, storage in a temp dir), which the
    test may kill and restart; the machine's shared server is never touched."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        self.store = root / "nats"
        self.store.mkdir()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._process = subprocess.Popen(
            [NATS_SERVER, "-a", "127.0.0.1", "-p", str(self.port), "-js", "-sd", str(self.store)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def kill(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(5)


@contextmanager
def own_nats(root: Path) -> Iterator[OwnNats]:
    if not (os.access(NATS_SERVER, os.X_OK) or shutil.which("nats-server")):
        reason = f"{NATS_SERVER} is not installed"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI=true it is required")
        pytest.skip(reason)
    server = OwnNats(root)
    server.start()
    try:
        yield server
    finally:
        server.kill()
