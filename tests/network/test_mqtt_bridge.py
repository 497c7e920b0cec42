"""The MQTT bridge against the machine's Mosquitto, with a second client as the user.

Each test runs ``camnet serve --mqtt`` in a subprocess under its own topic root (prefix
``{root}/camnet``, discovery ``{root}/ha``) and machine name, and removes its retained
messages afterwards.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.network.ha_discovery import Number, Select, Sensor, Switch, validate
from tests.network.mqtt_support import (
    Relay,
    Watcher,
    clear_retained,
    require_mosquitto,
    unique_root,
    watching,
)
from tests.support import ServerProcess

JPEG_START = b"\xff\xd8"


def bridge_server(data_dir: Path, root: str, port: int = 1883) -> ServerProcess:
    machine = f"mq{secrets.token_hex(3)}"
    return ServerProcess(
        data_dir,
        env={
            "CAMNET_MACHINE_NAME": machine,
            "CAMNET_MQTT": f"mqtt://127.0.0.1:{port}",
            "CAMNET_MQTT_PREFIX": f"{root}/camnet",
            "CAMNET_MQTT_DISCOVERY_PREFIX": f"{root}/ha",
            "CAMNET_MQTT_IMAGE_INTERVAL": "0.5",
            "CAMNET_MQTT_RECONNECT_INTERVAL": "0.3",
        },
    )


@pytest.fixture
async def root() -> AsyncIterator[str]:
    require_mosquitto()
    name = unique_root()
    yield name
    await clear_retained(name)


def machine_of(server: ServerProcess) -> str:
    return server.env["CAMNET_MACHINE_NAME"]


async def discovery(watcher: Watcher, root: str) -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for topic, payloads in watcher.seen.items():
        if topic.startswith(f"{root}/ha/") and payloads[-1]:
            out[topic] = json.loads(payloads[-1])
    return out


async def test_state_set_refusals_discovery_and_image(tmp_path: Path, root: str) -> None:
    server = bridge_server(tmp_path, root)
    async with watching(f"{root}/#") as user:
        await asyncio.to_thread(server.start)
        try:
            machine = machine_of(server)
            c2 = f"{machine}-C2"
            state = f"{root}/camnet/{c2}"
            await user.wait_for(f"{root}/camnet/{machine}/availability", b"online")
            # Retained state of every readable variable, as the c2 API shows it.
            assert user.last(f"{state}/light0") == b"false"
            assert user.last(f"{state}/recordingResolution") is not None

            # An Update made through the c2 HTTP API appears on its topic.
            response = await asyncio.to_thread(server.post, {"light1": True})
            assert response.status_code == 200, response.text
            await user.wait_for(f"{state}/light1", b"true")

            # /set takes the one path: the c2 API reads the new value back.
            await user.client.publish(f"{state}/light0/set", b"true", qos=1)
            await user.wait_for(f"{state}/light0", b"true")
            assert (await asyncio.to_thread(server.state))["light0"] is True
            await user.client.publish(f"{state}/pip/set", b"3", qos=1)
            await user.wait_for(f"{state}/pip", b"3")

            # Refused: a bad bool, a number out of range, a variable the bridge may not
            # write (not an API-User variable). Each answers on …/error; nothing changes.
            refusals = {
                "light0": b"maybe",
                "pip": b"9",
                "httpOn": b"false",
                "recordingResolution": b"8K",
            }
            for name, payload in refusals.items():
                await user.client.publish(f"{state}/{name}/set", payload, qos=1)
            for name, payload in refusals.items():
                topic = f"{state}/{name}/error"
                await user.wait(lambda t=topic: user.last(t) is not None, topic)  # type: ignore[misc]
                error = json.loads(user.last(topic) or b"{}")
                assert error["value"] == payload.decode()
                assert error["error"]
            after = await asyncio.to_thread(server.state)
            assert after["light0"] is True
            assert after["pip"] == 3
            assert after["httpOn"] is True
            assert after["recordingResolution"] != "8K"
            assert (
                "mqtt_permissions" in json.loads(user.last(f"{state}/httpOn/error") or b"")["error"]
            )

            # The live image, a JPEG, at the configured interval.
            await user.wait(lambda: user.last(f"{state}/image") is not None, "an image")
            assert (user.last(f"{state}/image") or b"").startswith(JPEG_START)

            # Discovery: every payload valid by HA's documented schema; each kind present.
            found = await discovery(user, root)
            components: dict[str, list[object]] = {}
            for topic, entry in found.items():
                component, entity = validate(topic, entry)
                components.setdefault(component, []).append(entity)
                assert f"/{machine}/" in topic  # node_id
            assert set(components) == {"switch", "number", "select", "sensor", "camera"}
            ids = [payload["unique_id"] for payload in found.values()]
            assert len(ids) == len(set(ids))
            light0 = found[f"{root}/ha/switch/{machine}/{machine}_C2_light0/config"]
            assert Switch.model_validate(light0).command_topic == f"{state}/light0/set"
            pip_topic = f"{root}/ha/number/{machine}/{machine}_C2_pip/config"
            pip = Number.model_validate(found[pip_topic])
            assert (pip.min, pip.max, pip.step) == (0, 4, 1)
            resolution = Select.model_validate(
                found[f"{root}/ha/select/{machine}/{machine}_C2_recordingResolution/config"]
            )
            assert "HD" in resolution.options
            fan = Sensor.model_validate(
                found[f"{root}/ha/sensor/{machine}/{machine}_C2_rpm0/config"]
            )
            assert fan.unit_of_measurement == "rpm"
            assert fan.state_topic == f"{state}/rpm0"
            # The stereo cameras are bridged read-only by default (streams:cameras:read).
            stereo = {t.split("/")[2] for t in found if "_C2_" not in t}
            assert stereo == {"sensor", "camera"}
            # httpOn is writable only by admins: HA sees it read-only, as a sensor.
            assert f"{root}/ha/sensor/{machine}/{machine}_C2_httpOn/config" in found
        finally:
            await asyncio.to_thread(server.stop)
        # A clean stop says offline itself.
        await user.wait_for(f"{root}/camnet/{machine_of(server)}/availability", b"offline")


async def test_reconnects_and_the_last_will_says_offline(tmp_path: Path, root: str) -> None:
    relay = Relay()
    await relay.start()
    server = bridge_server(tmp_path, root, relay.port)
    try:
        async with watching(f"{root}/#") as user:
            await asyncio.to_thread(server.start)
            machine = machine_of(server)
            availability = f"{root}/camnet/{machine}/availability"
            light0 = f"{root}/camnet/{machine}-C2/light0"
            await user.wait_for(availability, b"online")
            await user.wait_for(light0, b"false")
            # Forget the retained state; the broker "goes away" (connections cut).
            await user.client.publish(light0, b"", qos=1, retain=True)
            await user.wait_for(light0, b"")
            relay.cut()
            await user.wait_for(availability, b"offline")  # the will, from the broker
            # The bridge comes back by itself and publishes state and discovery again.
            await user.wait_for(availability, b"online")
            await user.wait_for(light0, b"false")
            # A crash (SIGKILL): the broker publishes the last will.
            await asyncio.to_thread(server.kill)
            await user.wait_for(availability, b"offline")
    finally:
        await asyncio.to_thread(server.stop)
        await relay.stop()
