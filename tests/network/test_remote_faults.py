"""Faults between nodes, on one in-process bus (issue 19, items 2, 3 and 5).

- the device server drops a call that arrives after its deadline, and applies a call
  whose idempotency key it has seen once (the repeat gets the first answer);
- a remote device whose node presence knows offline is refused at once;
- a refresh of the mirror hands what changed to its watchers, and a watched device
  follows every variable while an unwatched control unit follows only the kept ones.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.clock import ManualClock
from camnet.devices.device import Device, Read, Write
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.sim_control_unit import ControlUnitConfig, SimulatedControlUnit
from camnet.devices.surface import DeviceUnavailable
from camnet.network.device_server import DeviceServer
from camnet.network.operations import encode_operations
from camnet.network.remote import RemoteDevice
from camnet.store.database import Database
from camnet.store.settings_store import SettingsStore

SCHEMA = c2_schema()


@pytest.fixture
async def node(tmp_path: Path) -> AsyncIterator[tuple[Device, DeviceServer, LocalBus]]:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    bus = LocalBus("b")
    behaviour = SimulatedControlUnit(ControlUnitConfig(interval=0.01), ManualClock())
    device = Device("a-C2", SCHEMA, bus, SettingsStore(database), behaviour)
    server = DeviceServer(bus, "a-Devices", lambda: [device])
    await device.start()
    await server.start()
    yield device, server, bus
    await server.stop()
    await device.stop()
    database.close()


def call(params: dict[str, Any], id: str) -> Envelope:
    return Envelope(
        Topic(MessageType.CALL, target="a-Devices", method="Execute", id=id),
        Message(params=params),
    )


async def test_a_call_after_its_deadline_is_dropped_unapplied(
    node: tuple[Device, DeviceServer, LocalBus],
) -> None:
    device, server, bus = node
    before = device.state["zoom0"]
    late = encode_operations("a-C2", [Write(SCHEMA["zoom0"], 10)], deadline=time.time() - 1)
    with pytest.raises(TimeoutError):
        await bus.request(call(late, "late"), 0.3)
    assert device.state["zoom0"] == before
    assert server.expired == 1


async def test_a_repeated_key_is_applied_once_and_answered_alike(
    node: tuple[Device, DeviceServer, LocalBus],
) -> None:
    device, server, bus = node
    before = device.state["zoom0"]
    params = encode_operations("a-C2", [Write(SCHEMA["zoom0"], 10)], key="k1")
    first, second = await asyncio.gather(
        bus.request(call(params, "one"), 2), bus.request(call(params, "two"), 2)
    )
    again = await bus.request(call(params, "three"), 2)
    assert device.state["zoom0"] == before + 10
    assert server.repeated == 2
    for reply, id in ((first, "one"), (second, "two"), (again, "three")):
        assert reply.topic.type is MessageType.CALL_RESULT
        assert reply.topic.id == id
        assert reply.message.to_json()["Result"] == first.message.to_json()["Result"]


async def test_a_node_known_offline_is_refused_without_a_request(
    node: tuple[Device, DeviceServer, LocalBus],
) -> None:
    device, _, bus = node
    online = False
    remote = RemoteDevice(
        "a-C2", c2_schema(), "a", bus, "a-Devices", timeout=5.0, online=lambda: online
    )
    started = time.monotonic()
    with pytest.raises(DeviceUnavailable, match="offline"):
        await remote.execute([Write(SCHEMA["zoom0"], 10)])
    assert time.monotonic() - started < 1.0
    online = True
    values = await remote.execute([Read(("zoom0",))])
    assert values["zoom0"] == device.state["zoom0"]


async def test_a_refresh_hands_what_changed_to_the_watchers(
    node: tuple[Device, DeviceServer, LocalBus],
) -> None:
    device, _, bus = node
    remote = RemoteDevice("a-C2", c2_schema(), "a", bus, "a-Devices", kept=("cam0Exists",))
    await remote.start()
    await remote.seed()
    seen: list[dict[str, Any]] = []
    unwatch = remote.watch(lambda values: seen.append(dict(values)))
    await remote.ready()
    seen.clear()
    # Lost while the bus was away: the change is made with the remote not listening.
    unwatch()
    await device.execute([Write(SCHEMA["light1"], not device.state["light1"])])
    assert remote.state["light1"] != device.state["light1"]  # only cam0Exists is followed
    remote.watch(lambda values: seen.append(dict(values)))
    await remote.ready()
    assert any(values.get("light1") == device.state["light1"] for values in seen)
    seen.clear()
    await remote.seed()  # nothing changed since: nothing handed on
    assert not any("light1" in v for v in seen)
    await remote.stop()
