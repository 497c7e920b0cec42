"""``MachineName-Devices``: a node's devices, served to the faces of other nodes.

Another node's face sends one ``Call`` with ``Method: "Execute"`` and the operations of
one request (``network/operations.py``); they run here through ``Device.execute``, the
one path every change takes (validate → apply → commit → publish), as one unit. The
answer, targeted at the caller's ``RespondTo`` with the same ``ID``, is a ``CallResult``
whose ``Result`` is ``{"Values": {...}}`` (every variable read or written), or a ``Log``
with ``{"level": "error", "message", "variable", "reason"}`` when nothing was applied.
The answer is sent after the device committed: an acknowledged remote write is on this
node's disk.

A device's plain ``Get``/``Set`` on the bus stay as they are (vendor clients use them);
this service adds what one ``Set`` cannot say: several writes that must apply together.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from typing import Any

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.devices.device import Device, WriteRefused
from camnet.network.operations import EXECUTE, OperationError, decode_operations
from camnet.state.coerce import CoercionError

log = logging.getLogger(__name__)

KIND = "devices"


class DeviceServer:
    def __init__(self, bus: Bus, name: str, devices: Callable[[], Sequence[Device]]) -> None:
        self._bus = bus
        self.name = name
        self._devices = devices
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._subscription = self._bus.subscribe(
            TopicFilter(type=MessageType.CALL, target=self.name), self._on_call
        )

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in tuple(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _on_call(self, envelope: Envelope) -> None:
        task = asyncio.create_task(self._answer(envelope))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, envelope: Envelope) -> None:
        topic = envelope.topic
        reply_to = topic.respond_to or topic.source
        params = envelope.message.to_json().get("Params")
        device_name = params.get("Device") if isinstance(params, dict) else None
        try:
            if topic.method != EXECUTE:
                raise OperationError(f"unknown Method {topic.method!r}; this service has Execute")
            device = self._device(device_name)
            operations = decode_operations(params, device.schema)
            values = await device.execute(operations)
        except (OperationError, CoercionError, WriteRefused) as exc:
            variable = getattr(exc, "variable", "")
            reason = getattr(exc, "reason", str(exc))
            await self._reply(
                Envelope(
                    Topic(
                        MessageType.LOG,
                        target=reply_to,
                        source=self.name,
                        name=topic.name or "Error",
                        id=topic.id,
                    ),
                    Message(
                        value={
                            "level": "error",
                            "message": str(exc),
                            "variable": variable,
                            "reason": reason,
                        }
                    ),
                )
            )
            return
        except Exception:
            log.exception("%s: Execute on %s failed", self.name, device_name)
            await self._reply(
                Envelope(
                    Topic(MessageType.LOG, target=reply_to, source=self.name, id=topic.id),
                    Message(value={"level": "error", "message": "the device failed"}),
                )
            )
            return
        await self._reply(
            Envelope(
                Topic(
                    MessageType.CALL_RESULT,
                    target=reply_to,
                    source=self.name,
                    name=topic.name,
                    method=topic.method,
                    id=topic.id,
                    executed_on=device.name,
                ),
                Message(result={"Values": values}),
            )
        )

    def _device(self, name: Any) -> Device:
        for device in self._devices():
            if device.name == name:
                return device
        raise OperationError(f"no device {name!r} on this node")

    async def _reply(self, envelope: Envelope) -> None:
        if envelope.topic.target:
            await self._bus.publish(envelope)
