"""A device of another node, with the surface the faces use (``DeviceSurface``).

- **state** is a mirror: seeded by one ``Execute`` that reads every readable variable,
  then kept by the device's own ``Update`` messages, which every node hears. The mirror
  is seeded again when the device's node returns after missing a heartbeat (Updates may
  have been lost meanwhile).
- **execute** sends the operations of one request to the node that serves the device
  (``Call`` ``Execute`` to ``MachineName-Devices``, ``network/device_server.py``) and
  waits for the answer: the values, or an error ``Log`` raised here as ``WriteRefused``
  (nothing applied), or nothing within the timeout, raised as ``DeviceUnavailable``
  (the faces answer 503). The values are also applied to the mirror at once, so a
  request's answer and the next read agree even before the Updates arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import (
    BROADCAST,
    Envelope,
    Message,
    MessageType,
    Topic,
    state_name,
    variable_of,
)
from camnet.devices.device import Operation, Read, WriteRefused
from camnet.devices.surface import DeviceUnavailable
from camnet.network.operations import EXECUTE, encode_operations
from camnet.state.schema import JsonValue, Schema

log = logging.getLogger(__name__)


class RemoteDevice:
    def __init__(
        self,
        name: str,
        schema: Schema,
        machine: str,
        bus: Bus,
        server: str,
        *,
        source: str = "",
        timeout: float = 5.0,
    ) -> None:
        """``server``: the ``MachineName-Devices`` service of the device's node;
        ``source``: who this node is on the bus (the Source of its calls)."""
        self.name = name
        self.schema = schema
        self.machine = machine
        self._bus = bus
        self._server = server
        self._source = source
        self._timeout = timeout
        self._state: dict[str, JsonValue] = schema.defaults()
        self._subscription: Subscription | None = None
        self.seeded = False

    @property
    def state(self) -> Mapping[str, JsonValue]:
        return self._state

    def snapshot(self, names: Iterable[str]) -> dict[str, JsonValue]:
        return {name: self._state[name] for name in names}

    async def start(self) -> None:
        self._subscription = self._bus.subscribe(
            TopicFilter(
                type=MessageType.UPDATE, source=self.name, target=BROADCAST, name=state_name("*")
            ),
            self._on_update,
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None

    async def seed(self) -> None:
        """Read every readable variable from the device's node into the mirror."""
        readable = tuple(v.name for v in self.schema if v.readable)
        await self.execute([Read(readable)])
        self.seeded = True

    async def execute(self, operations: Sequence[Operation]) -> dict[str, JsonValue]:
        request = Envelope(
            Topic(
                MessageType.CALL,
                target=self._server,
                source=self._source,
                name="Devices.Execute",
                method=EXECUTE,
            ),
            Message(params=encode_operations(self.name, operations)),
        )
        try:
            reply = await self._bus.request(request, timeout=self._timeout)
        except TimeoutError:
            raise DeviceUnavailable(
                self.name, f"node {self.machine} did not answer within {self._timeout:g} s"
            ) from None
        except Exception as exc:  # the bus itself refused (not started, closing)
            raise DeviceUnavailable(
                self.name, f"node {self.machine} is unreachable: {exc}"
            ) from exc
        values = self._values_of(reply)
        for name, value in values.items():
            if name in self._state:
                self._state[name] = value
        return values

    def _values_of(self, reply: Envelope) -> dict[str, JsonValue]:
        if reply.topic.type is MessageType.CALL_RESULT:
            result: Any = reply.message.to_json().get("Result")
            values = result.get("Values") if isinstance(result, dict) else None
            if isinstance(values, dict):
                return values
        value: Any = reply.message.value if reply.message.has_value else None
        if reply.topic.type is MessageType.LOG and isinstance(value, dict):
            variable = str(value.get("variable") or self.name)
            raise WriteRefused(variable, str(value.get("reason") or value.get("message")))
        raise DeviceUnavailable(self.name, f"unexpected answer {reply.topic.type.value}")

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name is not None and name in self._state and envelope.message.has_value:
            self._state[name] = envelope.message.value
