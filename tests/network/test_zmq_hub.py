"""The ZeroMQ hub, driven by a pyzmq client written as a user of the vendor product would."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from camnet.node import Node
from tests.inprocess import InProcessServer, inprocess_server


@pytest.fixture(scope="module")
def hub_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("hub"), machine_name="hubnode", bus_anonymous_role="admin"
    ) as server:
        yield server


class Client:
    """A vendor-style client: PUB into the hub's publish port, SUB from its subscribe port."""

    def __init__(self, context: zmq.Context[zmq.Socket[bytes]], node: Node, name: str) -> None:
        self.name = name
        self.pub = context.socket(zmq.PUB)
        self.pub.connect(f"tcp://127.0.0.1:{node.zmq_hub.publish_port}")
        self.sub = context.socket(zmq.SUB)
        self.sub.connect(f"tcp://127.0.0.1:{node.zmq_hub.subscribe_port}")
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        for sock in (self.pub, self.sub):
            sock.setsockopt(zmq.LINGER, 0)

    def send(self, topic: dict[str, Any] | bytes, message: dict[str, Any], *extra: bytes) -> None:
        head = topic if isinstance(topic, bytes) else json.dumps(topic).encode()
        self.pub.send_multipart([head, json.dumps(message).encode(), *extra])

    def ask(
        self, topic: dict[str, Any], message: dict[str, Any], wanted: Any, timeout: float = 5.0
    ) -> list[bytes]:
        """Send (again, while subscriptions settle) until a message ``wanted`` accepts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.send(topic, message)
            found = self.wait(wanted, 0.3)
            if found is not None:
                return found
        raise AssertionError(f"no answer to {topic}")

    def wait(self, wanted: Any, timeout: float) -> list[bytes] | None:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            if not self.sub.poll(int(remaining * 1000) + 1):
                return None
            frames = self.sub.recv_multipart()
            if wanted(json.loads(frames[0]), json.loads(frames[1])):
                return frames
        return None

    def close(self) -> None:
        self.pub.close()
        self.sub.close()


@pytest.fixture
def clients(hub_server: InProcessServer) -> Iterator[list[Client]]:
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    node = hub_server.app.state.node
    made = [Client(context, node, f"tester{i}") for i in range(3)]
    yield made
    for client in made:
        client.close()
    context.term()


def _reply_to(name: str, variable: str) -> Any:
    return lambda topic, _message: (
        topic.get("Target") == name
        and topic.get("Type") == "Update"
        and topic.get("Name") == f"State.{variable}"
    )


def test_get_and_set_through_the_hub_answer_with_updates(clients: list[Client]) -> None:
    client = clients[0]
    get = {"Type": "Get", "Target": "hubnode-C2", "Name": "State.light0", "Source": client.name}
    frames = client.ask(get, {}, _reply_to(client.name, "light0"))
    assert json.loads(frames[1]) == {"Value": False}
    unknown = {**get, "Name": "State.nosuch"}
    frames = client.ask(unknown, {}, _reply_to(client.name, "nosuch"))
    assert json.loads(frames[1]) == {"Value": "null"}
    setter = {**get, "Type": "Set", "RespondTo": client.name}
    frames = client.ask(setter, {"Value": True}, _reply_to(client.name, "light0"))
    assert json.loads(frames[1]) == {"Value": True}
    frames = client.ask(get, {}, _reply_to(client.name, "light0"))
    assert json.loads(frames[1]) == {"Value": True}


def test_a_broadcast_update_reaches_every_subscriber(clients: list[Client]) -> None:
    sender, *listeners = clients
    update = {"Type": "Update", "Target": "BROADCAST", "Source": sender.name, "Name": "State.cue"}

    def is_cue(topic: dict[str, Any], _message: dict[str, Any]) -> bool:
        return topic.get("Source") == sender.name and topic.get("Name") == "State.cue"

    sender.ask(update, {"Value": 7}, is_cue)
    for listener in listeners:
        frames = listener.wait(is_cue, 3.0)
        assert frames is not None
        assert json.loads(frames[1]) == {"Value": 7}


@pytest.mark.parametrize(
    ("topic", "extra", "reason"),
    [
        (b"{not json", (), "not JSON"),
        (b"[" * 100_000, (), "not JSON"),  # deeper than Python's decoder goes (fuzz finding)
        (
            json.dumps({"Type": "Get", "Target": "hubnode-Nobody", "Source": "bad"}).encode(),
            (),
            "unknown Target",
        ),
        (json.dumps({"Target": "hubnode-C2", "Source": "bad"}).encode(), (), "no Type"),
        (
            json.dumps({"Type": "Update", "Source": "bad", "Name": "State.x"}).encode(),
            (b"\0" * (16 * 1024 * 1024 + 1),),
            "over the limit",
        ),
    ],
)
def test_bad_messages_are_answered_with_a_log_and_the_hub_keeps_going(
    clients: list[Client], topic: bytes, extra: tuple[bytes, ...], reason: str
) -> None:
    client = clients[0]
    get = {"Type": "Get", "Target": "hubnode-C2", "Name": "State.light1", "Source": client.name}
    client.ask(get, {}, _reply_to(client.name, "light1"))  # connected both ways
    client.send(topic, {}, *extra)

    def is_error(topic: dict[str, Any], message: dict[str, Any]) -> bool:
        return topic.get("Type") == "Log" and reason in message.get("Value", {}).get("message", "")

    assert client.wait(is_error, 5.0) is not None
    client.ask(get, {}, _reply_to(client.name, "light1"))


def test_the_hub_says_so_when_its_port_is_taken(tmp_path: Path) -> None:
    with inprocess_server(tmp_path / "a") as first:
        taken = first.app.state.node.zmq_hub.publish_port
        with inprocess_server(tmp_path / "b", zmq_publish_port=taken) as second:
            hub = second.app.state.node.zmq_hub
            assert hub.status["state"] == "error"
            assert "cannot listen" in str(hub.status["reason"])
            with second.client() as http:
                assert http.get("/api", params={"token": second.token}).status_code == 200


def test_the_hub_hears_the_bus_only_while_a_client_is_subscribed(
    hub_server: InProcessServer,
) -> None:
    node = hub_server.app.state.node
    hub = node.zmq_hub

    def until(condition: Any, what: str) -> None:
        deadline = time.monotonic() + 10
        while not condition():
            assert time.monotonic() < deadline, what
            time.sleep(0.02)

    until(lambda: not hub.forwarding, "no client: the hub does not subscribe to the bus")
    context: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    try:
        client = Client(context, node, "watcher")
        until(lambda: hub.forwarding, "a subscribed client: the hub hears the bus")
        client.close()
        until(lambda: not hub.forwarding, "the client gone: the hub stops hearing the bus")
    finally:
        context.term()
