"""The MQTT bridge: device state on a broker, ``/set`` topics back through the one path.

A subscriber of the bus like any other face. For every device it bridges it publishes
each readable variable, retained, on ``{prefix}/{device}/{variable}`` and every later
``Update`` on the same topic; ``{prefix}/{device}/{variable}/set`` is coerced by the
schema and applied with ``Device.execute`` (validate → apply → commit → publish), under
the bridge's own principal: what it may read and write is a ``VariableGrant`` made by
the identity policy from the ``mqtt_permissions`` setting. A refused value changes
nothing and is answered on ``…/error``.

The bridge announces ``online`` on ``{prefix}/{node}/availability`` (retained) with the
last will ``offline``, publishes Home Assistant discovery, and a JPEG per camera every
``mqtt_image_interval`` seconds. When the broker goes away it reconnects by itself and
publishes discovery and the whole retained state again. Pending updates are kept as the
newest value per topic, so a slow or absent broker never grows memory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import aiomqtt

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, MessageType, variable_of
from camnet.devices.device import Device, Write, WriteRefused
from camnet.identity.permissions import VariableGrant
from camnet.network.mqtt_discovery import DiscoveryContext, device_messages
from camnet.network.mqtt_topics import OFFLINE, ONLINE, BrokerUrl, Topics, parse_payload, value_text
from camnet.state.coerce import CoercionError, from_json, in_range
from camnet.state.schema import JsonValue, Kind

log = logging.getLogger(__name__)

IMAGE_TIMEOUT = 10.0
"""Seconds one camera may take to deliver a frame for the image topic."""


class ImageSource(Protocol):
    """A live stream hub's one-frame capture (``StreamHub.snapshot``)."""

    async def snapshot(self) -> _Frame: ...


class _Frame(Protocol):
    @property
    def jpeg(self) -> bytes: ...


@dataclass(frozen=True, slots=True)
class BridgedDevice:
    device: Device
    model: str
    grant: VariableGrant
    image: ImageSource | None = None


@dataclass(frozen=True, slots=True)
class BridgeConfig:
    broker: BrokerUrl
    node: str
    prefix: str = "camnet"
    discovery_prefix: str = "homeassistant"
    image_interval: float = 10.0
    reconnect_interval: float = 2.0


class SetRefused(Exception):
    """A ``/set`` that changes nothing; the reason goes to ``…/error``."""


class MqttBridge:
    def __init__(self, bus: Bus, config: BridgeConfig, devices: Sequence[BridgedDevice]) -> None:
        self._bus = bus
        self._config = config
        self._topics = Topics(config.prefix)
        self._devices = {entry.device.name: entry for entry in devices}
        self._pending: dict[str, str] = {}
        self._wake = asyncio.Event()
        self._subscriptions: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self.connected = asyncio.Event()
        """Set while connected and the retained state is published (tests wait on it)."""
        self.last_error: str | None = None
        """Why the last connection failed or ended; ``/readyz`` shows it while down."""

    @property
    def availability_topic(self) -> str:
        return self._topics.availability(self._config.node)

    def status(self) -> str | None:
        """None while connected, else what an operator should read: the broker (no
        credentials) and the last error. The bridge retries by itself meanwhile."""
        if self.connected.is_set():
            return None
        why = self.last_error or "connecting"
        every = self._config.reconnect_interval
        return f"not connected to {self._config.broker} ({why}); retrying every {every:g} s"

    async def start(self) -> None:
        for name in self._devices:
            self._subscriptions.append(
                self._bus.subscribe(TopicFilter(MessageType.UPDATE, source=name), self._on_update)
            )
        self._task = asyncio.create_task(self._run(), name="mqtt-bridge")

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    # --- bus side ---------------------------------------------------------------------

    def _on_update(self, envelope: Envelope) -> None:
        entry = self._devices.get(envelope.topic.source)
        name = variable_of(envelope.topic.name)
        if entry is None or name is None or not entry.grant.may_read(name):
            return
        value = envelope.message.value
        self._pending[self._topics.state(entry.device.name, name)] = value_text(value)
        self._wake.set()

    def _snapshot(self) -> dict[str, str]:
        """Every readable variable of every device: what a (re)connect publishes."""
        out: dict[str, str] = {}
        for entry in self._devices.values():
            state = entry.device.state
            for variable in entry.device.schema:
                if variable.readable and entry.grant.may_read(variable.name):
                    topic = self._topics.state(entry.device.name, variable.name)
                    out[topic] = value_text(state[variable.name])
        return out

    # --- broker side ------------------------------------------------------------------

    async def _run(self) -> None:
        broker = self._config.broker
        while True:
            try:
                async with aiomqtt.Client(
                    broker.host,
                    broker.port,
                    username=broker.username,
                    password=broker.password,
                    identifier=f"camnet-{self._config.node}",
                    will=aiomqtt.Will(self.availability_topic, OFFLINE, qos=1, retain=True),
                    keepalive=10,
                ) as client:
                    log.info("MQTT bridge connected to %s", broker)
                    self.last_error = None
                    try:
                        await self._session(client)
                    finally:
                        self.connected.clear()
            except aiomqtt.MqttError as exc:
                self.last_error = str(exc) or type(exc).__name__
                log.warning("MQTT broker %s: %s; retrying", broker, exc)
            await asyncio.sleep(self._config.reconnect_interval)

    async def _session(self, client: aiomqtt.Client) -> None:
        await client.subscribe(self._topics.set_filter(), qos=1)
        await self._publish_discovery(client)
        self._pending.clear()
        for topic, text in self._snapshot().items():
            await client.publish(topic, text, qos=1, retain=True)
        await client.publish(self.availability_topic, ONLINE, qos=1, retain=True)
        self.connected.set()
        # Plain except clauses, not except*: except* would wrap a stop's CancelledError in
        # a BaseExceptionGroup that no caller expects (Ctrl-C then ended in a traceback).
        try:
            async with asyncio.TaskGroup() as group:
                group.create_task(self._forward_updates(client))
                group.create_task(self._receive(client))
                if self._config.image_interval > 0:
                    group.create_task(self._images(client))
        except asyncio.CancelledError:
            # Stopping: say so before the connection closes (the will covers a crash).
            with contextlib.suppress(aiomqtt.MqttError):
                await asyncio.shield(
                    client.publish(self.availability_topic, OFFLINE, qos=1, retain=True)
                )
            raise
        except BaseExceptionGroup as errors:
            lost = errors.subgroup(aiomqtt.MqttError)
            if lost is None:
                raise
            raise lost.exceptions[0] from None

    async def _publish_discovery(self, client: aiomqtt.Client) -> None:
        context = DiscoveryContext(self._topics, self._config.discovery_prefix, self._config.node)
        for entry in self._devices.values():
            messages = device_messages(
                context,
                entry.device.name,
                entry.model,
                list(entry.device.schema),
                entry.grant,
                entry.image is not None,
            )
            for message in messages:
                await client.publish(message.topic, json.dumps(message.payload), qos=1, retain=True)

    async def _forward_updates(self, client: aiomqtt.Client) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, {}
            for topic, text in pending.items():
                await client.publish(topic, text, qos=1, retain=True)

    async def _receive(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            parsed = self._topics.parse_set(message.topic.value)
            if parsed is None:
                continue
            payload = message.payload if isinstance(message.payload, bytes) else b""
            device, variable = parsed
            try:
                await self.apply(device, variable, payload)
            except SetRefused as refused:
                reason = str(refused)
            except Exception:  # e.g. the database: refuse, keep the bridge running
                log.exception("MQTT set %s/%s failed", device, variable)
                reason = "camnet could not apply this value; please try again later"
            else:
                continue
            body = {"value": payload.decode("utf-8", "replace"), "error": reason}
            await client.publish(self._topics.error(device, variable), json.dumps(body), qos=1)

    async def _images(self, client: aiomqtt.Client) -> None:
        while True:
            for entry in self._devices.values():
                if entry.image is None:
                    continue
                try:
                    async with asyncio.timeout(IMAGE_TIMEOUT):
                        frame = await entry.image.snapshot()
                except Exception:  # a camera that fails must not take the bridge down
                    log.warning("no image of %s for MQTT", entry.device.name, exc_info=True)
                    continue
                await client.publish(self._topics.image(entry.device.name), frame.jpeg, qos=0)
            await asyncio.sleep(self._config.image_interval)

    # --- the one write path -----------------------------------------------------------

    async def apply(self, device_name: str, name: str, payload: bytes) -> dict[str, JsonValue]:
        """Coerce and apply one ``/set``; raises SetRefused with nothing applied."""
        entry = self._devices.get(device_name)
        if entry is None:
            raise SetRefused(f"no device {device_name} on this bridge")
        variable = entry.device.schema.get(name)
        if variable is None or not variable.writable:
            raise SetRefused(f"{name} is not a writable variable of {device_name}")
        if not entry.grant.may_write(name):
            raise SetRefused(f"the MQTT bridge may not write {name} (setting mqtt_permissions)")
        try:
            raw = parse_payload(payload)
            value = from_json(variable, raw)
        except UnicodeDecodeError:
            raise SetRefused("the payload is not UTF-8 text") from None
        except CoercionError as exc:
            raise SetRefused(exc.reason) from None
        number = _number(raw) if variable.kind in (Kind.INT, Kind.FLOAT) else None
        if number is not None and not variable.relative and not in_range(variable, number):
            raise SetRefused(f"{raw} is outside {variable.minimum}..{variable.maximum}")
        try:
            return await entry.device.execute([Write(variable, value)])
        except WriteRefused as exc:
            raise SetRefused(exc.reason) from None


def _number(value: JsonValue) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
