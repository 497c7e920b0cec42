"""Home Assistant's MQTT discovery schema, as documented, for validating the bridge.

Written from the Home Assistant docs (home-assistant.io/integrations/{switch,number,
select,sensor,camera}.mqtt and the MQTT discovery page), independently of the bridge:
each model lists the documented keys (required ones without a default) and forbids any
other key, so a misspelt or invented key fails validation. Only the documented keys a
discovery payload may carry are here (abbreviations such as ``stat_t`` are not used).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

_PUBLISH_TOPIC = re.compile(r"^[^#+\x00]+$")
"""A topic HA publishes to or subscribes to exactly: no wildcards (valid_publish_topic)."""

Topic = Annotated[str, Field(pattern=_PUBLISH_TOPIC.pattern, min_length=1)]
HA_COMPONENTS = (
    "alarm_control_panel|binary_sensor|button|camera|climate|cover|device_tracker|"
    "device_trigger|event|fan|humidifier|image|lawn_mower|light|lock|notify|number|scene|"
    "select|sensor|siren|switch|tag|text|update|vacuum|valve|water_heater"
)
"""The MQTT integration's platforms, as HA's docs list them: a discovery topic's
component is one of these (matching any lower-case word would let a machine name made
of letters pass for the component)."""
DISCOVERY_TOPIC = re.compile(
    rf"^(?P<prefix>.+?)/(?P<component>{HA_COMPONENTS})/(?:(?P<node_id>[a-zA-Z0-9_-]+)/)?"
    r"(?P<object_id>[a-zA-Z0-9_-]+)/config$"
)
"""``<discovery_prefix>/<component>/[<node_id>/]<object_id>/config``."""


class Device(BaseModel):
    """The ``device`` block (MQTT discovery docs: device registry information)."""

    model_config = ConfigDict(extra="forbid")

    configuration_url: str | None = None
    connections: list[tuple[str, str]] | None = None
    hw_version: str | None = None
    identifiers: list[str] | str | None = None
    manufacturer: str | None = None
    model: str | None = None
    model_id: str | None = None
    name: str | None = None
    serial_number: str | None = None
    suggested_area: str | None = None
    sw_version: str | None = None
    via_device: str | None = None

    @model_validator(mode="after")
    def _identified(self) -> Device:
        if not self.identifiers and not self.connections:
            raise ValueError("a device needs identifiers or connections")
        return self


class Entity(BaseModel):
    """Keys every MQTT entity documents (availability, device, naming, QoS)."""

    model_config = ConfigDict(extra="forbid")

    availability_mode: Literal["all", "any", "latest"] | None = None
    availability_template: str | None = None
    availability_topic: Topic | None = None
    device: Device | None = None
    enabled_by_default: bool | None = None
    encoding: str | None = None
    entity_category: Literal["config", "diagnostic"] | None = None
    entity_picture: str | None = None
    icon: str | None = None
    json_attributes_template: str | None = None
    json_attributes_topic: Topic | None = None
    name: str | None = None
    object_id: str | None = None
    payload_available: str | None = None
    payload_not_available: str | None = None
    qos: Literal[0, 1, 2] | None = None
    unique_id: str | None = None

    @model_validator(mode="after")
    def _unique_with_device(self) -> Entity:
        # The docs: a device block needs a unique_id (the entity registry keys on it).
        if self.device is not None and not self.unique_id:
            raise ValueError("an entity with a device needs a unique_id")
        return self


class Switch(Entity):
    command_template: str | None = None
    command_topic: Topic | None = None
    device_class: Literal["outlet", "switch"] | None = None
    optimistic: bool | None = None
    payload_off: str | None = None
    payload_on: str | None = None
    retain: bool | None = None
    state_off: str | None = None
    state_on: str | None = None
    state_topic: Topic | None = None
    value_template: str | None = None


class Number(Entity):
    command_template: str | None = None
    command_topic: Topic
    device_class: str | None = None
    max: float = 100.0
    min: float = 1.0
    mode: Literal["auto", "box", "slider"] | None = None
    optimistic: bool | None = None
    payload_reset: str | None = None
    retain: bool | None = None
    state_topic: Topic | None = None
    step: Annotated[float, Field(ge=0.001)] = 1.0
    unit_of_measurement: str | None = None
    value_template: str | None = None

    @model_validator(mode="after")
    def _range(self) -> Number:
        if self.min >= self.max:
            raise ValueError("min must be below max")
        return self


class Select(Entity):
    command_template: str | None = None
    command_topic: Topic
    optimistic: bool | None = None
    options: Annotated[list[str], Field(min_length=1)]
    retain: bool | None = None
    state_topic: Topic | None = None
    value_template: str | None = None


class Sensor(Entity):
    device_class: str | None = None
    expire_after: int | None = None
    force_update: bool | None = None
    last_reset_value_template: str | None = None
    options: list[str] | None = None
    state_class: Literal["measurement", "total", "total_increasing"] | None = None
    state_topic: Topic
    suggested_display_precision: int | None = None
    unit_of_measurement: str | None = None
    value_template: str | None = None


class Camera(Entity):
    image_encoding: Literal["b64"] | None = None
    topic: Topic


COMPONENTS: dict[str, type[Entity]] = {
    "switch": Switch,
    "number": Number,
    "select": Select,
    "sensor": Sensor,
    "camera": Camera,
}


def validate(topic: str, payload: dict[str, Any]) -> tuple[str, Entity]:
    """The component and the validated entity of one discovery message; raises on error."""
    match = DISCOVERY_TOPIC.match(topic)
    if match is None:
        raise ValueError(f"{topic} is not a discovery topic")
    component = match["component"]
    model = COMPONENTS.get(component)
    if model is None:
        raise ValueError(f"{component} is not a component this schema knows")
    return component, model.model_validate(payload)
