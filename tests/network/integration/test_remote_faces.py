"""Node B's faces serve node A's devices: two camnet processes on the machine's NATS.

A control-unit variable of A is set through B's c2 API, B's Gateway (main port and the
Gateway's own listener) and a stereo control of A through B's streams API; each change
is read back from A itself. B's c2 WebSocket for A receives a change made on A. B's fleet
list and service registry show A's devices with A's machine and online state.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Iterator

import httpx
import pytest
import websockets

from tests.network.integration.nodes import ADMIN, Node, make_node, serves_remote, wait_for
from tests.outside import require_nats
from tests.support import TOKEN


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, Node]]:
    url = require_nats()
    root = tmp_path_factory.mktemp("two-nodes")
    network = f"t{secrets.token_hex(6)}"
    a, b = make_node(root, network, url), make_node(root, network, url)
    a.process.start()
    try:
        b.process.start()
        try:
            wait_for(lambda: serves_remote(b, a), what="B to serve A's devices")
            yield a, b
        finally:
            b.process.stop()
    finally:
        a.process.stop()


def test_a_control_unit_variable_of_a_is_set_through_b_c2_api(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with b.http() as http:
        written = http.post(
            f"/nodes/{a.machine}/api", params={"token": TOKEN}, json={"light0": True, "redGain": 17}
        )
        assert written.status_code == 200, written.text
        assert written.json() == {"light0": True, "redGain": 17}
        read = http.get(f"/nodes/{a.machine}/api", params={"token": TOKEN, "get": "[redGain]"})
        assert read.json() == {"redGain": 17}
        # A refusal in the c2 dialect; nothing of the request is applied.
        refused = http.post(
            f"/nodes/{a.machine}/api", params={"token": TOKEN}, json={"redGain": 3, "nosuch": 1}
        )
        assert refused.status_code == 400
        read = http.get(f"/nodes/{a.machine}/api", params={"token": TOKEN, "get": "[redGain]"})
        assert read.json() == {"redGain": 17}
        unknown = http.get("/nodes/nosuchnode/api", params={"token": TOKEN})
        assert unknown.status_code == 404
        assert "nosuchnode" in unknown.json()["error"]["message"]
    with a.http() as http:
        state = http.get("/api", params={"token": TOKEN, "get": "[light0,redGain]"}).json()
    assert state == {"light0": True, "redGain": 17}


def test_b_gateway_sets_a_variable_of_a_on_both_of_its_ports(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    with b.http() as http:
        services = http.get("/services/default").json()["services"]
        listener = next(s["listener"] for s in services if s["name"] == "gateway")
        answer = http.post(
            "/gateway/24.1.0/publish",
            auth=ADMIN,
            json={
                "Topic": {"Type": "Set", "Target": a.c2, "Name": "State.light1"},
                "Message": {"Value": True},
            },
        )
    assert answer.status_code == 200, answer.text
    [reply] = answer.json()
    assert reply["Topic"]["Type"] == "Update"
    assert reply["Topic"]["Source"] == a.c2
    assert reply["Message"] == {"Value": True}
    with httpx.Client(base_url=listener, timeout=15.0) as http:
        got = http.get(
            "/gateway/24.1.0/publish",
            params={"Type": "Set", "Target": a.c2, "Name": "State.redGain", "Value": "-5"},
            auth=ADMIN,
        )
        assert got.status_code == 200, got.text
        assert got.json()[0]["Message"] == {"Value": -5}
        assert http.get("/api", auth=ADMIN).status_code == 404  # the Gateway port only
        assert http.get("/gateway/1/publish", params={"Type": "Get"}).status_code == 401
    with a.http() as http:
        state = http.get("/api", params={"token": TOKEN, "get": "[light1,redGain]"}).json()
    assert state == {"light1": True, "redGain": -5}


def test_a_stereo_control_of_a_is_set_through_b_streams_api(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    path = f"/cameras/{a.mxid}/streams/CAM_B/control"
    with b.http() as http:
        changed = http.post(path, auth=ADMIN, json={"sensitivity_iso": 1234})
        assert changed.status_code == 200, changed.text
        assert changed.json()["sensitivity_iso"] == 1234
        out_of_range = http.post(path, auth=ADMIN, json={"sensitivity_iso": 99999})
        assert out_of_range.status_code == 422
        listed = http.get(f"/cameras/{a.mxid}/streams/", auth=ADMIN)
        assert {s["name"] for s in listed.json()} >= {"CAM_A", "CAM_B", "CAM_C"}
        still = http.get(f"/cameras/{a.mxid}/streams/CAM_A/still", auth=ADMIN)
        assert still.status_code == 501
    with a.http() as http:
        assert http.get(path, auth=ADMIN).json()["sensitivity_iso"] == 1234


def test_b_websocket_for_a_receives_a_change_made_on_a(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    ws_url = b.url.replace("http://", "ws://") + f"/nodes/{a.machine}/api?token={TOKEN}"

    async def scenario() -> None:
        async with websockets.connect(ws_url) as socket:
            first = json.loads(await asyncio.wait_for(socket.recv(), 10))
            assert "light0" in first
            with a.http() as http:
                target = not first["light0"]
                done = http.post("/api", params={"token": TOKEN}, json={"light0": target})
                assert done.status_code == 200
            while True:
                message = json.loads(await asyncio.wait_for(socket.recv(), 10))
                if "light0" in message:
                    assert message["light0"] is target
                    return

    asyncio.run(scenario())


def test_b_lists_a_devices_with_their_node_and_online_state(nodes: tuple[Node, Node]) -> None:
    a, b = nodes
    devices = b.fleet_devices()
    assert devices[a.c2]["is_online"] == 1
    assert devices[f"{a.machine}-Stereo{a.mxid}"]["is_online"] == 1
    assert devices[b.c2]["is_online"] == 1
    with b.http() as http:
        services = {s["name"]: s for s in http.get("/services/default").json()["services"]}
    assert services[a.c2]["machine"] == a.machine
    assert services[a.c2]["online"] is True
    assert services[f"{a.machine}-Devices"]["kind"] == "devices"
