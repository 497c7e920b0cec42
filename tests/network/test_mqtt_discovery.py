"""The bridge's pure parts: broker URL, topics, payload text, discovery, its principal."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from camnet.devices.profiles.c2 import c2_schema
from camnet.identity.permissions import ALL, PermissionPolicy, VariableGrant
from camnet.network.mqtt_discovery import DiscoveryContext, device_messages
from camnet.network.mqtt_setup import bridge_permissions, stereo_grant
from camnet.network.mqtt_topics import BrokerUrl, Topics, parse_payload, value_text
from camnet.settings import Settings, SettingsError, load_settings
from tests.network.ha_discovery import validate

CONTEXT = DiscoveryContext(Topics("camnet"), "homeassistant", "cell3")


def test_broker_url() -> None:
    url = BrokerUrl.parse("mqtt://bridge:s%40cret@127.0.0.1:1884")
    assert (url.host, url.port) == ("127.0.0.1", 1884)
    assert (url.username, url.password) == ("bridge", "s@cret")
    assert str(url) == "mqtt://127.0.0.1:1884"  # no credentials in logs
    assert BrokerUrl.parse("mqtt://localhost").port == 1883
    for bad in ("http://x:1883", "mqtt://:1883", "mqtt://x:99999", "mqtt://x/path"):
        with pytest.raises(ValueError, match="expected"):
            BrokerUrl.parse(bad)


def test_settings_refuse_bad_mqtt_values() -> None:
    for key, value in (("mqtt", "tcp://x"), ("mqtt_prefix", "a/+/b"), ("mqtt_permissions", "x")):
        with pytest.raises(SettingsError, match=key):
            load_settings(environ={f"CAMNET_{key.upper()}": value})
    settings = load_settings(
        environ={"CAMNET_MQTT_PERMISSIONS": "c2:state.light0:write, c2:state.light0:read"}
    )
    assert settings.mqtt_permissions == ["c2:state.light0:write", "c2:state.light0:read"]
    assert "s3cret" not in repr(load_settings(environ={"CAMNET_MQTT": "mqtt://u:s3cret@h"}))


def test_topics_and_payloads() -> None:
    topics = Topics("site/camnet")
    assert topics.parse_set("site/camnet/cell3-C2/light0/set") == ("cell3-C2", "light0")
    others = ("site/camnet/cell3-C2/light0", "other/cell3-C2/light0/set", "site/camnet/a/b/set/set")
    for other in others:
        assert topics.parse_set(other) is None
    assert [value_text(v) for v in (True, 3, 1.5, "HD", {"x": 1})] == [
        "true", "3", "1.5", "HD", '{"x":1}'
    ]  # fmt: skip
    assert [parse_payload(p) for p in (b"true", b"3", b"HD", b'"HD"')] == [True, 3, "HD", "HD"]


def _payloads(grant: VariableGrant) -> dict[str, dict[str, Any]]:
    messages = device_messages(CONTEXT, "cell3-C2", "c2", list(c2_schema()), grant, True)
    return {message.topic: message.payload for message in messages}


def test_every_discovery_payload_is_valid_and_follows_the_grant() -> None:
    everything = _payloads(ALL)
    for topic, payload in everything.items():
        validate(topic, payload)
    assert "homeassistant/switch/cell3/cell3_C2_httpOn/config" in everything
    # The API-User's principal: httpOn is not writable for it, so HA gets a sensor.
    api = PermissionPolicy(None, ["light0"])
    limited = _payloads(api.grant_of(bridge_permissions(Settings.model_validate({}), api)))
    assert "homeassistant/sensor/cell3/cell3_C2_httpOn/config" in limited
    assert "homeassistant/switch/cell3/cell3_C2_light0/config" in limited
    # Nothing readable: only the camera remains.
    nothing = _payloads(VariableGrant(read=frozenset(), write=frozenset()))
    assert list(nothing) == ["homeassistant/camera/cell3/cell3_C2_image/config"]


def test_the_schema_refuses_what_home_assistant_would() -> None:
    good = _payloads(ALL)["homeassistant/number/cell3/cell3_C2_pip/config"]
    topic = "homeassistant/number/cell3/cell3_C2_pip/config"
    for broken in (
        {**good, "comand_topic": "x"},  # not a documented key
        {k: v for k, v in good.items() if k != "command_topic"},  # required
        {**good, "min": 5, "max": 1},
        {**good, "step": 0},
        {**good, "state_topic": "a/#"},
        {**good, "device": {"name": "no identifiers"}},
    ):
        with pytest.raises(ValidationError):
            validate(topic, broken)
    with pytest.raises(ValueError, match="discovery topic"):
        validate("homeassistant/number/config", good)


def test_stereo_cameras_are_read_only_unless_granted() -> None:
    policy = PermissionPolicy(None, [])
    default = stereo_grant(bridge_permissions(Settings.model_validate({}), policy))
    assert default.may_read("anything")
    assert not default.may_write("anything")
    writer = Settings.model_validate(
        {"mqtt_permissions": ["streams:cameras:read", "streams:cameras:write"]}
    )
    assert stereo_grant(bridge_permissions(writer, policy)).may_write("anything")
    none = Settings.model_validate({"mqtt_permissions": []})
    nothing = stereo_grant(bridge_permissions(none, policy))
    assert not nothing.may_read("anything")
