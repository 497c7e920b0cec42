"""Your own service (examples/my_service.py) on a node, reached the ways a user reaches it.

The example runs as its own process, joined to the node through the node's ZeroMQ hub
(``ZmqBus``), exactly as a user starts it. A vendor-style pyzmq client and the Gateway
call it; its persisted data lives in the node's Store (SQLite, the node alone) and comes
back when the service restarts.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zmq

from camnet.node import Node
from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server
from tests.network.test_zmq_hub import Client
from tests.support import ADMIN_PASSWORD, clean_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "my_service.py"
PUBLISH = "/gateway/24.1.0/publish"
MACHINE = "ext"
GREETER = f"{MACHINE}-Greeter"


class ExampleProcess:
    """examples/my_service.py as its own process, connected to a node's hub."""

    def __init__(self, node: Node) -> None:
        self._args = [
            sys.executable,
            str(EXAMPLE),
            "--hub",
            "127.0.0.1",
            "--publish-port",
            str(node.zmq_hub.publish_port),
            "--subscribe-port",
            str(node.zmq_hub.subscribe_port),
            "--machine",
            MACHINE,
        ]
        self._process: subprocess.Popen[str] | None = None
        self.ready_line = ""

    def start(self) -> ExampleProcess:
        process = subprocess.Popen(
            self._args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env()
        )
        self._process = process
        assert process.stdout is not None
        line = process.stdout.readline()
        if "ready" not in line:
            process.kill()
            _, err = process.communicate(timeout=10)
            raise AssertionError(f"the example did not start: {line!r} {err}")
        self.ready_line = line.strip()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.communicate(timeout=10)
            self._process = None


@pytest.fixture(scope="module")
def node_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("svc"), machine_name="svcnode", bus_anonymous_role="admin"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def example(node_server: InProcessServer) -> Iterator[ExampleProcess]:
    process = ExampleProcess(node_server.app.state.node).start()
    yield process
    process.stop()


@pytest.fixture
def client(node_server: InProcessServer) -> Iterator[Client]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    made = Client(context, node_server.app.state.node, f"user{secrets.token_hex(3)}")
    yield made
    made.close()
    context.term()


@pytest.fixture
def gateway(node_server: InProcessServer) -> Iterator[httpx.Client]:
    with node_server.client(headers=basic("admin", ADMIN_PASSWORD)) as http:
        yield http


def _answer(client: Client, kind: str, ident: str = "") -> Any:
    return lambda topic, _message: (
        topic.get("Target") == client.name
        and topic.get("Type") == kind
        and (not ident or topic.get("ID") == ident)
    )


def _connected(client: Client) -> None:
    """Both sockets of the client are up: a Get to the greeter comes back."""
    get = {"Type": "Get", "Target": GREETER, "Name": "State.greeted", "Source": client.name}
    client.ask(get, {}, _answer(client, "Update"))


def _get(client: Client, name: str) -> Any:
    get = {"Type": "Get", "Target": GREETER, "Name": name, "Source": client.name}
    frames = client.ask(get, {}, _answer(client, "Update"))
    return json.loads(frames[1])["Value"]


def test_a_zmq_client_calls_the_service_through_the_hub_and_gets_its_call_result(
    example: ExampleProcess, client: Client
) -> None:
    _connected(client)
    before = _get(client, "State.greeted")
    call = {
        "Type": "Call",
        "Target": GREETER,
        "Source": client.name,
        "Method": "greet",
        "ID": "call-1",
    }
    client.send(call, {"Params": {"name": "Ada"}})
    frames = client.wait(_answer(client, "CallResult", "call-1"), 5.0)
    assert frames is not None, "no CallResult"
    topic, message = json.loads(frames[0]), json.loads(frames[1])
    assert topic["Source"] == GREETER
    assert topic["ExecutedOn"] == GREETER
    assert topic["Method"] == "greet"
    assert message == {"Result": f"Hello, Ada! (greeting number {before + 1})"}
    assert _get(client, "State.greeted") == before + 1


def test_an_unknown_name_is_null_and_a_bad_call_is_answered_with_a_log(
    example: ExampleProcess, client: Client
) -> None:
    _connected(client)
    assert _get(client, "State.nosuch") == "null"
    for ident, method, params, expected in [
        ("bad-1", "nosuch", {}, "no function 'nosuch'"),
        ("bad-2", "greet", {"nom": "x"}, "greet:"),
        ("bad-3", "greet", [1, 2], "Params must be a JSON object"),
    ]:
        call = {"Type": "Call", "Target": GREETER, "Source": client.name, "Method": method}
        client.send({**call, "ID": ident}, {"Params": params})
        frames = client.wait(_answer(client, "Log", ident), 5.0)
        assert frames is not None, method
        value = json.loads(frames[1])["Value"]
        assert value["level"] == "error"
        assert expected in value["message"]


def test_the_gateway_calls_the_service_with_get_and_post(
    example: ExampleProcess, gateway: httpx.Client
) -> None:
    replies = gateway.get(
        PUBLISH,
        params={"Type": "Call", "Target": GREETER, "Method": "greet", "Paramname": "Bob"},
    ).json()
    assert len(replies) == 1
    assert replies[0]["Topic"]["Type"] == "CallResult"
    assert replies[0]["Topic"]["ExecutedOn"] == GREETER
    assert replies[0]["Message"]["Result"].startswith("Hello, Bob!")
    body = {
        "Topic": {"Type": "Call", "Target": GREETER, "Method": "greet"},
        "Message": {"Params": {"name": "Cy"}},
    }
    replies = gateway.post(PUBLISH, json=body).json()
    assert replies[0]["Message"]["Result"].startswith("Hello, Cy!")
    assert replies[0]["Topic"]["ID"]


def test_set_data_is_persisted_by_the_store_and_comes_back_after_a_restart(
    node_server: InProcessServer, example: ExampleProcess, gateway: httpx.Client, client: Client
) -> None:
    _connected(client)
    setter = {
        "Type": "Set",
        "Target": GREETER,
        "Name": "State.greeting",
        "Source": client.name,
        "ID": "set-1",
    }
    client.send(setter, {"Value": "Bonjour"})
    frames = client.wait(_answer(client, "Update", "set-1"), 5.0)
    assert frames is not None
    assert json.loads(frames[1]) == {"Value": "Bonjour"}
    stored = gateway.get(
        PUBLISH, params={"Type": "Get", "Target": "Store", "Name": f"{GREETER}.greeting"}
    ).json()
    assert stored[0]["Message"] == {"Value": "Bonjour"}
    greeted = _get(client, "State.greeted")

    example.stop()
    example.start()
    assert "greeting='Bonjour'" in example.ready_line
    assert _get(client, "State.greeting") == "Bonjour"
    assert _get(client, "State.greeted") == greeted
    # a wrong type is refused with a Log, and nothing is stored
    client.send({**setter, "ID": "set-2"}, {"Value": {"not": "text"}})
    frames = client.wait(_answer(client, "Log", "set-2"), 5.0)
    assert frames is not None
    assert "expected a string" in json.loads(frames[1])["Value"]["message"]
    assert _get(client, "State.greeting") == "Bonjour"


def test_the_service_is_in_the_presence_directory_of_the_node(
    node_server: InProcessServer, example: ExampleProcess
) -> None:
    presence = node_server.app.state.node.presence
    deadline = time.monotonic() + 5
    while presence.info(GREETER) is None:
        assert time.monotonic() < deadline, "the service never announced itself"
        time.sleep(0.05)
    info = presence.info(GREETER)
    assert info is not None
    assert (info.machine, info.kind) == (MACHINE, "service")
    assert presence.info("Store") is not None
