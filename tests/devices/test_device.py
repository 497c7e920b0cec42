"""The device's single change path: staging, atomicity, commit before publish."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.clock import ManualClock
from camnet.devices.device import Device, Read, Write, WriteRefused, absolute_value
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.sim_control_unit import ControlUnitConfig, SimulatedControlUnit
from camnet.store.database import Database
from camnet.store.settings_store import SettingsStore


@pytest.fixture
async def device(tmp_path: Path) -> AsyncIterator[tuple[Device, LocalBus, Database]]:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    bus = LocalBus("m")
    behaviour = SimulatedControlUnit(ControlUnitConfig(interval=0.01), ManualClock())
    unit = Device("m-C2", c2_schema(), bus, SettingsStore(database), behaviour)
    await unit.start()
    yield unit, bus, database
    await unit.stop()
    database.close()


def w(name: str, value: object) -> Write:
    return Write(c2_schema()[name], value)


async def test_reads_and_writes_in_order(device: tuple[Device, LocalBus, Database]) -> None:
    unit, _, _ = device
    result = await unit.execute([Read(("gain",)), w("gain", 5), w("zoom0", 100), w("zoom0", 50)])
    assert result == {"gain": 5, "zoom0": 150}


async def test_a_refusal_applies_nothing(device: tuple[Device, LocalBus, Database]) -> None:
    unit, bus, _ = device
    published: list[Envelope] = []
    bus.subscribe(TopicFilter(type=MessageType.UPDATE, name="State.*"), published.append)
    with pytest.raises(WriteRefused):
        await unit.execute([w("gain", 7), w("backupStorage", "missing")])
    assert unit.state["gain"] == 0
    assert [e for e in published if e.topic.name == "State.gain"] == []


async def test_persisted_values_are_committed_before_they_are_published(
    device: tuple[Device, LocalBus, Database], tmp_path: Path
) -> None:
    unit, bus, database = device
    stored_when_published: list[object] = []
    store = SettingsStore(database)

    def check(envelope: Envelope) -> None:
        if envelope.topic.name == "State.brightness":
            stored_when_published.append(store._load("m-C2").get("brightness"))

    bus.subscribe(TopicFilter(name="State.brightness"), check)
    await unit.execute([w("brightness", -3)])
    assert stored_when_published == [-3]


async def test_unchanged_values_are_not_published(
    device: tuple[Device, LocalBus, Database],
) -> None:
    unit, bus, _ = device
    published: list[str] = []
    bus.subscribe(
        TopicFilter(source="m-C2", name="State.light0"), lambda e: published.append(e.topic.name)
    )
    await unit.execute([w("light0", False)])
    await unit.execute([w("light0", True)])
    await unit.execute([w("light0", True)])
    assert published == ["State.light0"]


async def test_refused_recording_is_notified(device: tuple[Device, LocalBus, Database]) -> None:
    unit, bus, _ = device
    logs: list[Envelope] = []
    bus.subscribe(TopicFilter(type=MessageType.LOG), logs.append)
    assert await unit.execute([w("record", "start")]) == {"record": "stop"}
    assert logs
    assert "no recording storage" in logs[0].message.value["message"]


async def test_get_and_set_over_the_bus(device: tuple[Device, LocalBus, Database]) -> None:
    unit, bus, _ = device
    reply = await bus.request(
        Envelope(Topic(MessageType.GET, target="m-C2", name="State.sharpness"))
    )
    assert reply.topic.type is MessageType.UPDATE
    assert reply.message.value == 8
    unknown = await bus.request(Envelope(Topic(MessageType.GET, target="m-C2", name="State.warp")))
    assert unknown.message.value == "null"
    done = await bus.request(
        Envelope(Topic(MessageType.SET, target="m-C2", name="State.sharpness"), Message(value=99))
    )
    assert done.message.value == 15
    assert unit.state["sharpness"] == 15
    refused = await bus.request(
        Envelope(Topic(MessageType.SET, target="m-C2", name="State.cam0Exists"), Message(value=0))
    )
    assert refused.topic.type is MessageType.LOG


async def test_readings_move(device: tuple[Device, LocalBus, Database]) -> None:
    unit, _, _ = device
    await unit.execute([w("dictRotation0", True)])
    for _ in range(100):
        await asyncio.sleep(0.01)
        if unit.state["RPM0"] == unit.state["rpm0"]:
            break
    assert unit.state["RPM0"] == unit.state["rpm0"]
    assert str(unit.state["oct0"]).endswith("°C")


def test_relative_values_saturate() -> None:
    pan = c2_schema()["pan0"]
    assert absolute_value(pan, {"x": -10.5}, {"x": 50.0, "y": 50.0}) == {"x": 39.5, "y": 50.0}
    assert absolute_value(pan, {"y": 500}, {"x": 1.0, "y": 50.0}) == {"x": 1.0, "y": 100.0}
    zoom = c2_schema()["zoom0"]
    assert absolute_value(zoom, -5, 3) == 0
    assert absolute_value(c2_schema()["gain"], 4, 1) == 4
