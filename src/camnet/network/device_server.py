"""``MachineName-Devices``: a node's devices, served to the faces of other nodes.

Another node's face sends one ``Call`` with ``Method: "Execute"`` and the operations of
one request (``network/operations.py``); they run here through ``Device.execute``, the
one path every change takes (validate → apply → commit → publish), as one unit. The
answer, targeted at the caller's ``RespondTo`` with the same ``ID``, is a ``CallResult``
whose ``Result`` is ``{"Values": {...}}`` (every variable read or written), or a ``Log``
with ``{"level": "error", "message", "variable", "reason"}`` when nothing was applied.
The answer is sent after the device committed: an acknowledged remote write is on this
node's disk.

A call is applied at most once, and never after its caller gave up (issue 19):

- ``Deadline`` in the ``Params`` (wall-clock seconds): a call that arrives after it is
  dropped unapplied and unanswered. The caller answered 503 by then (it waits a little
  longer than the deadline it sends), so a request held back by an outage — in a NATS
  client's buffer, say — can never be applied once it was refused. Nodes' clocks must
  agree to well under ``remote_timeout`` (NTP).
- ``Key`` in the ``Params``: the answers of the last ``RECENT_KEYS`` keys are kept; a call
  whose key was seen, for the same device and operations, is answered with the first
  call's answer (awaited if it is still running) and not applied again. The same key
  with other operations is another call (a client's key reused by mistake never
  returns another request's answer).

A device's plain ``Get``/``Set`` on the bus stay as they are (vendor clients use them);
this service adds what one ``Set`` cannot say: several writes that must apply together.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.clock import Clock, SystemClock
from camnet.devices.device import Device, WriteRefused
from camnet.network.operations import EXECUTE, OperationError, decode_operations
from camnet.state.coerce import CoercionError

log = logging.getLogger(__name__)

KIND = "devices"
RECENT_KEYS: Final = 1024
"""How many idempotency keys (and their answers) a device server remembers."""


class DeviceServer:
    def __init__(
        self,
        bus: Bus,
        name: str,
        devices: Callable[[], Sequence[Device]],
        clock: Clock | None = None,
    ) -> None:
        self._bus = bus
        self.name = name
        self._devices = devices
        self._clock: Clock = clock or SystemClock()
        self._subscription: Subscription | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._recent: OrderedDict[str, asyncio.Future[Envelope]] = OrderedDict()
        self.expired = 0
        """Calls dropped because they arrived after their deadline."""
        self.repeated = 0
        """Calls answered from the key cache instead of being applied again."""

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
        deadline = params.get("Deadline") if isinstance(params, dict) else None
        if isinstance(deadline, int | float) and self._clock.now() > deadline:
            self.expired += 1
            log.warning("%s: dropped a call that arrived after its deadline", self.name)
            return
        key = _cache_key(params)
        if not key:
            await self._reply(await self._run(envelope, params))
            return
        first = self._recent.get(key)
        if first is not None:
            self.repeated += 1
            answer = await asyncio.shield(first)
            await self._reply(
                replace(answer, topic=replace(answer.topic, target=reply_to, id=topic.id))
            )
            return
        future: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()
        self._recent[key] = future
        while len(self._recent) > RECENT_KEYS:
            self._recent.popitem(last=False)
        try:
            answer = await self._run(envelope, params)
        except BaseException:  # cancelled (the node stops): a repeat may run it again
            self._recent.pop(key, None)
            future.cancel()
            raise
        future.set_result(answer)
        await self._reply(answer)

    async def _run(self, envelope: Envelope, params: Any) -> Envelope:
        """Apply one call; the answer to send (a CallResult, or an error Log)."""
        topic = envelope.topic
        reply_to = topic.respond_to or topic.source
        device_name = params.get("Device") if isinstance(params, dict) else None
        try:
            if topic.method != EXECUTE:
                raise OperationError(f"unknown Method {topic.method!r}; this service has Execute")
            device = self._device(device_name)
            operations = decode_operations(params, device.schema)
            values = await device.execute(operations)
        except (OperationError, CoercionError, WriteRefused) as exc:
            error = {
                "level": "error",
                "message": str(exc),
                "variable": getattr(exc, "variable", ""),
                "reason": getattr(exc, "reason", str(exc)),
            }
            return Envelope(
                Topic(
                    MessageType.LOG,
                    target=reply_to,
                    source=self.name,
                    name=topic.name or "Error",
                    id=topic.id,
                ),
                Message(value=error),
            )
        except Exception:
            log.exception("%s: Execute on %s failed", self.name, device_name)
            return Envelope(
                Topic(MessageType.LOG, target=reply_to, source=self.name, id=topic.id),
                Message(value={"level": "error", "message": "the device failed"}),
            )
        return Envelope(
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

    def _device(self, name: Any) -> Device:
        for device in self._devices():
            if device.name == name:
                return device
        raise OperationError(f"no device {name!r} on this node")

    async def _reply(self, envelope: Envelope) -> None:
        if envelope.topic.target:
            await self._bus.publish(envelope)


def _cache_key(params: Any) -> str:
    """The idempotency key with the device and operations it was sent with; empty when
    the call carries none."""
    key = params.get("Key") if isinstance(params, dict) else None
    if not isinstance(key, str) or not key:
        return ""
    what = json.dumps([params.get("Device"), params.get("Operations")], sort_keys=True)
    return f"{key}\n{hashlib.sha256(what.encode()).hexdigest()}"
