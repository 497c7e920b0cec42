"""Presence: Identify answered with Self, heartbeats, offline after three missed beats."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, MessageType, Topic
from camnet.clock import ManualClock
from camnet.network.presence import LocalService, Presence
from tests.inprocess import inprocess_server
from tests.outside import require_nats


async def test_identify_is_answered_with_one_self_per_local_service() -> None:
    bus = LocalBus("m")
    clock = ManualClock()
    local = [LocalService("m-C2", "device"), LocalService("m-Hub", "hub")]
    presence = Presence(bus, "m", clock, lambda: local, interval=60)
    await presence.start()
    answers: list[Envelope] = []
    bus.subscribe(TopicFilter(type=MessageType.SELF, target="asker"), answers.append)
    try:
        await bus.publish(Envelope(Topic(MessageType.IDENTIFY, source="x", respond_to="asker")))
        await bus.publish(Envelope(Topic(MessageType.IDENTIFY, target="m-Hub", source="asker")))
        await bus.publish(Envelope(Topic(MessageType.IDENTIFY, target="other-C2", source="asker")))
        await asyncio.sleep(0.05)
    finally:
        await presence.stop()
    assert [envelope.topic.source for envelope in answers] == ["m-C2", "m-Hub", "m-Hub"]
    assert answers[0].message.value == {"Machine": "m", "Kind": "device", "Interval": 60}
    assert [info.name for info in presence.services()] == ["m-C2", "m-Hub"]


async def test_a_service_is_offline_after_three_missed_heartbeats() -> None:
    bus = LocalBus("m")
    clock = ManualClock()
    watcher = Presence(bus, "w", clock, list, interval=1)
    remote = Presence(bus, "r", clock, lambda: [LocalService("r-C2", "device")], interval=1)
    await watcher.start()
    await remote.start()
    await remote.stop()
    try:
        assert watcher.is_online("r-C2")
        clock.advance(3.0)
        assert watcher.is_online("r-C2")
        clock.advance(0.5)
        assert not watcher.is_online("r-C2")
        assert not watcher.is_online("nobody-C2")
    finally:
        await watcher.stop()


def test_two_nodes_on_nats_see_each_other_and_one_going_away(tmp_path: Path) -> None:
    url = require_nats()
    first, second = f"p{secrets.token_hex(3)}", f"q{secrets.token_hex(3)}"
    settings = {"bus": url, "heartbeat_interval": 0.2}
    with inprocess_server(tmp_path / "a", machine_name=first, **settings) as node_a:
        presence = node_a.app.state.node.presence
        with inprocess_server(tmp_path / "b", machine_name=second, **settings):
            asyncio.run(_until(lambda: presence.is_online(f"{second}-C2")))
            info = presence.info(f"{second}-C2")
            assert info is not None
            assert (info.machine, info.kind) == (second, "device")
            assert presence.is_online(f"{first}-C2")
        node_a.clock.advance(0.2 * 3 + 0.1)
        assert not presence.is_online(f"{second}-C2")


async def _until(condition: object, timeout: float = 5.0) -> None:
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        assert loop.time() < deadline, "condition not reached"
        await asyncio.sleep(0.05)
