"""A variable whose value is the empty string keeps its MQTT topic (issue 18).

An empty *retained* payload deletes a retained topic (MQTT 3.1.1 §3.3.1.3), so a
subscriber that comes later (Home Assistant after a restart) would never see a state for
such a variable. The bridge publishes the empty string as JSON ``""`` instead; Home
Assistant's text sensors get a template that shows it blank. Against the machine's
Mosquitto, under a topic root of the test's own.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from camnet.network.mqtt_discovery import EMPTY_AS_BLANK
from camnet.network.mqtt_topics import parse_payload, value_text
from tests.network.ha_discovery import Sensor, validate
from tests.network.mqtt_support import clear_retained, require_mosquitto, unique_root, watching
from tests.network.test_mqtt_bridge import bridge_server, machine_of

EMPTY = b'""'


@pytest.fixture
async def root() -> AsyncIterator[str]:
    require_mosquitto()
    name = unique_root()
    yield name
    await clear_retained(name)


def test_the_empty_string_round_trips_as_json() -> None:
    assert value_text("") == '""'
    assert parse_payload(EMPTY) == ""
    assert value_text("HD") == "HD"


async def test_empty_values_keep_their_retained_topics_and_sensors_get_a_state(
    tmp_path: Path, root: str
) -> None:
    server = bridge_server(tmp_path, root)
    async with watching(f"{root}/#") as user:
        await asyncio.to_thread(server.start)
        try:
            machine = machine_of(server)
            state = f"{root}/camnet/{machine}-C2"
            await user.wait_for(f"{root}/camnet/{machine}/availability", b"online")
            values = await asyncio.to_thread(server.state)
            empty = sorted(name for name, value in values.items() if value == "")
            assert empty, "the control unit has no empty string to test with"
            for name in empty:
                await user.wait_for(f"{state}/{name}", EMPTY)

            # A change to "" is published as "" too, not as a deletion.
            changed = await asyncio.to_thread(server.post, {"ntpHost": "pool.ntp.org"}, admin=True)
            assert changed.status_code == 200, changed.text
            await user.wait_for(f"{state}/ntpHost", b"pool.ntp.org")
            cleared = await asyncio.to_thread(server.post, {"ntpHost": ""}, admin=True)
            assert cleared.status_code == 200, cleared.text
            await user.wait_for(f"{state}/ntpHost", EMPTY)

            # Home Assistant's sensors of those variables: a template that shows "" blank.
            for name in empty:
                topic = f"{root}/ha/sensor/{machine}/{machine}_C2_{name}/config"
                await user.wait(lambda t=topic: user.last(t) is not None, topic)  # type: ignore[misc]
                config = json.loads(user.last(topic) or b"{}")
                component, entity = validate(topic, config)
                assert component == "sensor"
                assert isinstance(entity, Sensor)
                assert entity.state_topic == f"{state}/{name}"
                assert entity.value_template == EMPTY_AS_BLANK
        finally:
            await asyncio.to_thread(server.stop)

    # A subscriber that comes later (HA after a restart) still finds every such topic.
    async with watching(f"{state}/+") as late:
        for name in [*empty, "ntpHost"]:
            await late.wait_for(f"{state}/{name}", EMPTY)
