"""Home Assistant MQTT discovery payloads derived from the state schema (no I/O).

One entity per variable the bridge's principal may read, chosen from the schema:
writable booleans are switches, writable ranged numbers are numbers (min/max/step from
the schema), writable enums are selects, everything else readable and scalar is a
sensor (with the schema's unit). A device with a live image gets a camera. Structured
(JSON) variables have no entity; writable strings, relative and unranged numbers show as
sensors. Their topics are published and ``/set`` works for all of them; see docs/mqtt.md.

Discovery topic: ``{discovery}/{component}/{node_id}/{object_id}/config``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from camnet import __version__
from camnet.identity.permissions import VariableGrant
from camnet.network.mqtt_topics import EMPTY_STRING, OFFLINE, ONLINE, Topics, value_text
from camnet.state.schema import Kind, Variable

EMPTY_AS_BLANK: Final = f"{{{{ '' if value == '{EMPTY_STRING}' else value }}}}"
"""A text sensor's template: the empty string's payload (JSON ``""``) shows as blank."""

FLOAT_STEPS: Final = 1000
"""A float number's slider has about this many steps across its range."""


@dataclass(frozen=True, slots=True)
class DiscoveryContext:
    """What every payload of one node shares."""

    topics: Topics
    discovery_prefix: str
    node: str
    """The node's machine name: HA's node_id and the availability topic's name."""


@dataclass(frozen=True, slots=True)
class DiscoveryMessage:
    topic: str
    payload: dict[str, Any]


def _object_id(device: str, name: str) -> str:
    return f"{device}_{name}".replace("-", "_")


def _device_block(device: str, model: str) -> dict[str, Any]:
    return {
        "identifiers": [f"camnet_{device}"],
        "name": device,
        "manufacturer": "camnet",
        "model": model,
        "sw_version": __version__,
    }


def _float_step(variable: Variable) -> float:
    assert variable.minimum is not None
    assert variable.maximum is not None
    step = round((variable.maximum - variable.minimum) / FLOAT_STEPS, 3)
    return max(step, 0.001)


def component_of(variable: Variable, writable: bool) -> str | None:
    """The HA component for a variable, or None when it gets no entity."""
    if writable and not variable.relative and variable.write_kind is None:
        if variable.kind is Kind.BOOL:
            return "switch"
        if variable.kind in (Kind.INT, Kind.FLOAT) and variable.ranged:
            return "number"
        if variable.kind is Kind.ENUM:
            return "select"
    # Read-only values, and writable ones HA has no fitting control for, are sensors.
    return None if variable.kind is Kind.JSON else "sensor"


def entity(
    context: DiscoveryContext, device: str, model: str, variable: Variable, writable: bool
) -> DiscoveryMessage | None:
    """The discovery message of one variable, or None when it gets no entity."""
    component = component_of(variable, writable)
    if component is None:
        return None
    object_id = _object_id(device, variable.name)
    payload: dict[str, Any] = {
        "name": variable.name,
        "unique_id": f"camnet_{object_id}",
        "state_topic": context.topics.state(device, variable.name),
        "availability_topic": context.topics.availability(context.node),
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "device": _device_block(device, model),
    }
    if component == "switch":
        payload.update(
            command_topic=context.topics.set(device, variable.name),
            payload_on=value_text(True),
            payload_off=value_text(False),
        )
    elif component == "number":
        assert variable.minimum is not None
        assert variable.maximum is not None
        integer = variable.kind is Kind.INT
        payload.update(
            command_topic=context.topics.set(device, variable.name),
            min=variable.minimum,
            max=variable.maximum,
            step=1 if integer else _float_step(variable),
        )
        if variable.unit:
            payload["unit_of_measurement"] = variable.unit
    elif component == "select":
        payload.update(
            command_topic=context.topics.set(device, variable.name),
            options=[value_text(option) for option in variable.options],
        )
    elif variable.unit and variable.kind in (Kind.INT, Kind.FLOAT):
        payload["unit_of_measurement"] = variable.unit
    elif variable.kind is Kind.STRING:
        payload["value_template"] = EMPTY_AS_BLANK
    topic = f"{context.discovery_prefix}/{component}/{context.node}/{object_id}/config"
    return DiscoveryMessage(topic, payload)


def camera(context: DiscoveryContext, device: str, model: str) -> DiscoveryMessage:
    object_id = _object_id(device, "image")
    return DiscoveryMessage(
        f"{context.discovery_prefix}/camera/{context.node}/{object_id}/config",
        {
            "name": "image",
            "unique_id": f"camnet_{object_id}",
            "topic": context.topics.image(device),
            "availability_topic": context.topics.availability(context.node),
            "payload_available": ONLINE,
            "payload_not_available": OFFLINE,
            "device": _device_block(device, model),
        },
    )


def device_messages(
    context: DiscoveryContext,
    device: str,
    model: str,
    variables: list[Variable],
    grant: VariableGrant,
    has_image: bool,
) -> list[DiscoveryMessage]:
    """Every discovery message of one device, as its principal may see it."""
    messages: list[DiscoveryMessage] = []
    for variable in variables:
        if not variable.readable or not grant.may_read(variable.name):
            continue
        writable = variable.writable and grant.may_write(variable.name)
        message = entity(context, device, model, variable, writable)
        if message is not None:
            messages.append(message)
    if has_image:
        messages.append(camera(context, device, model))
    return messages
