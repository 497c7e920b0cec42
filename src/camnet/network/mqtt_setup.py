"""Builds the MQTT bridge from the settings: its principal and the devices it bridges.

The bridge is a principal like any user: ``mqtt_permissions`` (actions in the default
account) are turned into each device's ``VariableGrant`` by the identity policy objects.
The control unit uses the c2 per-variable actions (``c2:state.<name>:read|write``); a
stereo camera, like the streams face, ``streams:cameras:read`` and
``streams:cameras:write`` for all of its variables.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from camnet.bus.base import Bus
from camnet.devices.device import Device
from camnet.identity.actions import Permissions, actions
from camnet.identity.permissions import DEFAULT_ACCOUNT, PermissionPolicy, Role, VariableGrant
from camnet.network.mqtt_bridge import BridgeConfig, BridgedDevice, ImageSource, MqttBridge
from camnet.network.mqtt_topics import BrokerUrl
from camnet.settings import Settings

STREAMS_READ = "streams:cameras:read"
STREAMS_WRITE = "streams:cameras:write"


def bridge_permissions(settings: Settings, policy: PermissionPolicy) -> Permissions:
    """The bridge's actions: as configured, else the API-User's c2 ones and stereo reads."""
    texts = settings.mqtt_permissions
    if texts is None:
        texts = [*(str(action) for action in policy.actions_for(Role.API)), STREAMS_READ]
    return Permissions.of([(DEFAULT_ACCOUNT, actions(*texts))])


def stereo_grant(permissions: Permissions) -> VariableGrant:
    """A stereo camera's variables are all-or-nothing, as on the streams face."""
    none: frozenset[str] = frozenset()
    return VariableGrant(
        read=None if permissions.allows(DEFAULT_ACCOUNT, STREAMS_READ) else none,
        write=None if permissions.allows(DEFAULT_ACCOUNT, STREAMS_WRITE) else none,
    )


def build_bridge(
    settings: Settings,
    bus: Bus,
    policy: PermissionPolicy,
    control_unit: Device,
    stereo: Sequence[tuple[Device, str]],
    images: Mapping[str, ImageSource],
) -> MqttBridge | None:
    """The bridge, or None when no broker is configured (``--mqtt``)."""
    if settings.mqtt is None:
        return None
    permissions = bridge_permissions(settings, policy)
    devices = [
        BridgedDevice(
            control_unit,
            "c2 control unit",
            policy.grant_of(permissions),
            images.get(control_unit.name),
        ),
        *(
            BridgedDevice(device, model, stereo_grant(permissions), images.get(device.name))
            for device, model in stereo
        ),
    ]
    config = BridgeConfig(
        broker=BrokerUrl.parse(settings.mqtt.get_secret_value()),
        node=settings.machine_name,
        prefix=settings.mqtt_prefix,
        discovery_prefix=settings.mqtt_discovery_prefix,
        image_interval=settings.mqtt_image_interval,
        reconnect_interval=settings.mqtt_reconnect_interval,
    )
    return MqttBridge(bus, config, devices)
