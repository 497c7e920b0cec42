"""A device reached over the bus: the device server runs Execute calls on the real device,
and ``RemoteDevice`` turns the answers into values, ``WriteRefused`` or
``DeviceUnavailable``, and mirrors the device's Updates."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.clock import ManualClock
from camnet.devices.device import Device, Read, Write, WriteRefused
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.profiles.stereo import OAK_D_LIKE, stereo_schema
from camnet.devices.sim_control_unit import ControlUnitConfig, SimulatedControlUnit
from camnet.devices.surface import DeviceUnavailable
from camnet.network.device_server import DeviceServer
from camnet.network.profiles import c2_profile, profile_of, stereo_profile
from camnet.network.remote import RemoteDevice
from camnet.store.database import Database
from camnet.store.settings_store import SettingsStore

SCHEMA = c2_schema()


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[tuple[Device, RemoteDevice, LocalBus]]:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    bus = LocalBus("b")
    behaviour = SimulatedControlUnit(ControlUnitConfig(interval=0.01), ManualClock())
    device = Device("a-C2", SCHEMA, bus, SettingsStore(database), behaviour)
    server = DeviceServer(bus, "a-Devices", lambda: [device])
    remote = RemoteDevice("a-C2", c2_schema(), "a", bus, "a-Devices", source="b-Remote")
    await device.start()
    await server.start()
    await remote.start()
    yield device, remote, bus
    await remote.stop()
    await server.stop()
    await device.stop()
    database.close()


async def test_writes_run_on_the_device_and_the_mirror_follows(
    pair: tuple[Device, RemoteDevice, LocalBus],
) -> None:
    device, remote, _ = pair
    await remote.seed()
    assert remote.state["redGain"] == device.state["redGain"]
    values = await remote.execute([Write(SCHEMA["light0"], True), Read(("light0", "redGain"))])
    assert values["light0"] is True
    assert device.state["light0"] is True
    await device.execute([Write(SCHEMA["redGain"], 42)])  # a change made on A itself
    assert remote.state["redGain"] == 42


async def test_a_refusal_on_the_device_is_write_refused_with_nothing_applied(
    pair: tuple[Device, RemoteDevice, LocalBus],
) -> None:
    device, remote, _ = pair
    before = device.state["light0"]
    with pytest.raises(WriteRefused) as refused:
        await remote.execute([Write(SCHEMA["light0"], not before), Write(SCHEMA["redGain"], "x")])
    assert refused.value.variable == "redGain"
    assert device.state["light0"] is before


async def test_a_silent_node_is_device_unavailable(
    pair: tuple[Device, RemoteDevice, LocalBus],
) -> None:
    _, _, bus = pair
    lost = RemoteDevice("z-C2", c2_schema(), "z", bus, "z-Devices", timeout=0.1)
    with pytest.raises(DeviceUnavailable):
        await lost.execute([Read(("light0",))])


async def test_malformed_calls_answer_a_log(pair: tuple[Device, RemoteDevice, LocalBus]) -> None:
    _, _, bus = pair
    for message in (
        Message(
            params={"Device": "a-C2", "Operations": [{"Write": {"Name": "nosuch", "Value": 1}}]}
        ),
        Message(params={"Device": "nobody", "Operations": []}),
        Message(params="not an object"),
    ):
        reply = await bus.request(
            Envelope(Topic(MessageType.CALL, target="a-Devices", method="Execute"), message), 2
        )
        assert reply.topic.type is MessageType.LOG
        assert reply.message.value["level"] == "error"


def test_profiles_rebuild_the_same_schema() -> None:
    c2 = profile_of(c2_profile())
    assert c2 is not None
    assert c2.schema.names() == SCHEMA.names()
    stereo = profile_of(stereo_profile("ABC", OAK_D_LIKE))
    assert stereo is not None
    assert stereo.mxid == "ABC"
    assert stereo.model == OAK_D_LIKE
    assert stereo.schema.names() == stereo_schema(OAK_D_LIKE).names()
    assert profile_of({"Profile": "stereo", "Mxid": "X"}) is None
    assert profile_of({"Profile": "toaster"}) is None
