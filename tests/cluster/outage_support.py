"""Two real nodes on a nats-server of the test's own, for the outage tests.

The NATS server is started by the test on a free port (``OwnNats``), so the test may stop
and restart it to make an outage; the machine's shared server (4222) is never touched.
The nodes, their data directories and the network name are fresh for each module.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from tests.network.integration.nodes import Node, OwnNats, make_node, own_nats, wait_for
from tests.support import TOKEN

__all__ = ["Cluster", "Node", "OwnNats", "cluster", "wait_for"]

HEARTBEAT = 0.3
"""Seconds between heartbeats: a node silent for three (0.9 s) is offline."""


@dataclass
class Cluster:
    nats: OwnNats
    a: Node
    b: Node

    @staticmethod
    def remote(of: Node) -> str:
        """The path of ``of``'s control unit on another node's c2 face."""
        return f"/nodes/{of.machine}/api"

    def read(self, node: Node, names: list[str], *, via: Node | None = None) -> httpx.Response:
        """``GET …/api?get=[names]`` of ``node``'s control unit, on ``via`` (or itself)."""
        path = "/api" if via is None else self.remote(node)
        with (via or node).http() as http:
            return http.get(path, params={"token": TOKEN, "get": f"[{','.join(names)}]"})

    def write(self, node: Node, body: dict[str, Any], *, via: Node | None = None) -> httpx.Response:
        path = "/api" if via is None else self.remote(node)
        with (via or node).http() as http:
            return http.post(path, params={"token": TOKEN}, json=body)

    def online(self, on: Node, of: Node) -> bool:
        """Whether ``on``'s presence lists ``of``'s control unit online."""
        with on.http() as http:
            services = http.get("/services/default").json()["services"]
        return any(s["name"] == of.c2 and s["online"] for s in services)

    def value(self, node: Node, name: str) -> Any:
        """``node``'s own value of ``name`` (read on the node itself, never over the bus)."""
        response = self.read(node, [name])
        assert response.status_code == 200, response.text
        return response.json()[name]


@contextmanager
def cluster(root: Path) -> Iterator[Cluster]:
    """A and B on a nats-server of the test's own; B serves A's control unit and A B's."""
    with own_nats(root) as nats:
        network = f"t{root.name[-8:]}".replace("-", "")
        a = make_node(root, network, nats.url, heartbeat=HEARTBEAT)
        b = make_node(root, network, nats.url, heartbeat=HEARTBEAT)
        a.process.start()
        b.process.start()
        try:
            made = Cluster(nats, a, b)
            wait_for(lambda: made.read(b, ["light0"], via=a).status_code == 200, what="A→B")
            wait_for(lambda: made.read(a, ["light0"], via=b).status_code == 200, what="B→A")
            yield made
        finally:
            b.process.stop()
            a.process.stop()


async def open_socket(url: str) -> ClientConnection:
    return await connect(url.replace("http://", "ws://", 1) + f"?token={TOKEN}", max_size=None)


async def next_json(ws: ClientConnection, timeout: float = 10.0) -> dict[str, Any]:
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), "the server sends JSON text"
    message = json.loads(raw)
    assert isinstance(message, dict)
    return message


async def wait_for_value(ws: ClientConnection, key: str, value: Any, timeout: float) -> None:
    """Read messages until one carries ``key`` with ``value``; TimeoutError otherwise."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise TimeoutError(f"no message with {key}={value!r} within {timeout} s")
        message = await next_json(ws, remaining)
        if message.get(key) == value:
            return
