"""Who the ZeroMQ hub answers: its peers present no credentials (as the vendor's), so the
hub answers them as ``bus_anonymous_role`` from ``bus_anonymous_networks``, and refuses
every connection while that setting is off (the default), with a log line."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import zmq

from tests.inprocess import InProcessServer, inprocess_server
from tests.network.test_zmq_hub import Client


@pytest.fixture
def context() -> Iterator[zmq.Context[zmq.Socket[bytes]]]:
    made: zmq.Context[zmq.Socket[bytes]] = zmq.Context()
    yield made
    made.destroy(linger=0)


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        time.sleep(0.02)


def is_update_to(name: str) -> Callable[[dict[str, Any], dict[str, Any]], bool]:
    return lambda topic, _message: topic.get("Target") == name and topic.get("Type") == "Update"


def refused_connection(
    server: InProcessServer, context: zmq.Context[zmq.Socket[bytes]], caplog: Any, words: str
) -> None:
    hub = server.app.state.node.zmq_hub
    client = Client(context, server.app.state.node, "outsider")
    try:
        client.send({"Type": "Get", "Target": "BROADCAST", "Source": "outsider"}, {})
        until(lambda: hub.refused_peers >= 2)  # the publish and the subscribe connection
    finally:
        client.close()
    lines = [r.getMessage() for r in caplog.records if r.name == "camnet.identity.anonymous"]
    assert any("ZeroMQ hub refused" in line and words in line for line in lines), lines


def test_off_by_default_every_peer_is_refused_and_logged(
    tmp_path: Path, context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="camnet.identity.anonymous")
    with inprocess_server(tmp_path, machine_name="zapnode") as server:
        refused_connection(server, context, caplog, "bus_anonymous_role is off")


def test_peers_outside_the_networks_are_refused(
    tmp_path: Path, context: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="camnet.identity.anonymous")
    with inprocess_server(
        tmp_path,
        machine_name="zapnode",
        bus_anonymous_role="admin",
        bus_anonymous_networks=["192.0.2.0/24"],
    ) as server:
        refused_connection(server, context, caplog, "outside bus_anonymous_networks")


def test_a_viewer_peer_reads_through_the_local_alias_and_may_not_write(
    tmp_path: Path, context: Any
) -> None:
    with inprocess_server(tmp_path, machine_name="zapnode", bus_anonymous_role="viewer") as server:
        client = Client(context, server.app.state.node, "viewer1")
        try:
            get = {"Type": "Get", "Target": "~LOCAL~-C2", "Name": "State.light0"}
            frames = client.ask({**get, "Source": client.name}, {}, is_update_to(client.name))
            assert json.loads(frames[0])["Source"] == "zapnode-C2"
            assert json.loads(frames[1]) == {"Value": False}
            setter = {**get, "Type": "Set", "Source": client.name}

            def refusal(topic: dict[str, Any], message: dict[str, Any]) -> bool:
                text = str(message.get("Value", {}).get("message", ""))
                return topic.get("Type") == "Log" and "network:bus:write" in text

            client.ask(setter, {"Value": True}, refusal)
            assert server.app.state.node.control_unit.state["light0"] is False
        finally:
            client.close()
