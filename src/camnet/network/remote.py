"""A device of another node, with the surface the faces use (``DeviceSurface``).

- **state** is a mirror, seeded by one ``Execute`` that reads every readable variable and
  read again whenever it may have missed something (its node returns after missing a
  heartbeat, a first watcher arrives). Between reads it is kept by the device's own
  ``Update`` messages — but only those a consumer on this node needs (issue 19: cost
  grows with the work, not with the square of the nodes): ``kept`` names (``None``: all)
  are followed always, because faces read them at any time (a stereo camera's
  configuration, a control unit's head presence for the fleet list); every variable is
  followed only while someone **watches** (``watch``: a WebSocket client of this node).
- every change of the mirror — an Update, a refresh, the values of a request — is handed
  to the watchers, so a WebSocket client sees what changed during an outage once its node
  is read again, like any other Update.
- **execute** sends the operations of one request to the node that serves the device
  (``Call`` ``Execute`` to ``MachineName-Devices``, ``network/device_server.py``) and
  waits for the answer: the values, or an error ``Log`` raised here as ``WriteRefused``
  (nothing applied), or nothing within the timeout, raised as ``DeviceUnavailable``
  (the faces answer 503). A node presence knows to be offline is ``DeviceUnavailable``
  at once, without a request. Each request carries a deadline a little before this
  node's timeout and an idempotency key: the serving node drops it unapplied once the
  deadline has passed, so a request answered 503 is never applied later. The key is
  random unless the face sets ``REQUEST_KEY`` (the client's ``Idempotency-Key``), so a
  client that retries a 503 with the same key gets the first answer instead of a second
  application, if the first one did arrive after all.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any, Final

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
from camnet.clock import Clock, SystemClock
from camnet.devices.device import Operation, Read, WriteRefused
from camnet.devices.surface import DeviceUnavailable
from camnet.network.operations import EXECUTE, encode_operations
from camnet.state.schema import JsonValue, Schema

log = logging.getLogger(__name__)

REQUEST_KEY: ContextVar[str] = ContextVar("camnet_request_key", default="")
"""The idempotency key of the request being served (empty: a random one per request)."""

Values = Mapping[str, JsonValue]
Watcher = Callable[[Values], None]
MARGIN: Final = 0.25
"""The share of the timeout (at most one second) kept between a request's deadline and
the end of this node's wait: time for the serving node to apply, commit and answer."""


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
        kept: Iterable[str] | None = None,
        online: Callable[[], bool] | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``server``: the ``MachineName-Devices`` service of the device's node;
        ``source``: who this node is on the bus (the Source of its calls); ``kept``: the
        variables followed without a watcher (``None``: every one); ``online``: whether
        presence hears the device's node."""
        self.name = name
        self.schema = schema
        self.machine = machine
        self._bus = bus
        self._server = server
        self._source = source
        self._timeout = timeout
        self._kept = None if kept is None else tuple(n for n in kept if n in schema)
        self._online = online
        self._clock: Clock = clock or SystemClock()
        self._state: dict[str, JsonValue] = schema.defaults()
        self._subscriptions: list[Subscription] = []
        self._watchers: list[Watcher] = []
        self._refresh: asyncio.Task[None] | None = None
        self._started = False
        self.seeded = False
        self.last_heard = 0.0
        """Wall-clock time of the last sign of life: an Update, an answer, a heartbeat."""

    @property
    def state(self) -> Mapping[str, JsonValue]:
        return self._state

    @property
    def online(self) -> bool:
        return self._online is None or self._online()

    @property
    def watched(self) -> bool:
        return bool(self._watchers)

    def snapshot(self, names: Iterable[str]) -> dict[str, JsonValue]:
        return {name: self._state[name] for name in names}

    def heard(self) -> None:
        """The device's node was heard from (its heartbeat)."""
        self.last_heard = self._clock.now()

    async def start(self) -> None:
        self._started = True
        self._follow()

    async def stop(self) -> None:
        self._started = False
        self._unfollow(self._subscriptions)
        self._subscriptions = []
        if self._refresh is not None:
            self._refresh.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresh

    def watch(self, watcher: Watcher) -> Callable[[], None]:
        """Hand every change of the mirror to ``watcher`` until the returned call.

        The first watcher makes this node follow every variable and read the mirror
        again (it may have missed what it did not follow); ``ready`` waits for that."""
        self._watchers.append(watcher)
        if len(self._watchers) == 1 and self._started:
            self._follow()
            self._refresh = asyncio.ensure_future(self._refresh_quietly())

        def unwatch() -> None:
            if watcher in self._watchers:
                self._watchers.remove(watcher)
                if not self._watchers and self._started:
                    self._follow()

        return unwatch

    async def ready(self) -> None:
        """Wait for the read a first watcher started (if any); never raises."""
        refresh = self._refresh
        if refresh is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(refresh)

    async def seed(self) -> None:
        """Read every readable variable from the device's node into the mirror."""
        self.seeded = False
        readable = tuple(v.name for v in self.schema if v.readable)
        await self._send([Read(readable)])
        self.seeded = True

    async def execute(self, operations: Sequence[Operation]) -> dict[str, JsonValue]:
        if not self.online:
            raise DeviceUnavailable(
                self.name, f"node {self.machine} is offline: its heartbeats have stopped"
            )
        return await self._send(operations)

    # --- internals ----------------------------------------------------------------------

    async def _send(self, operations: Sequence[Operation]) -> dict[str, JsonValue]:
        key = REQUEST_KEY.get() or secrets.token_hex(8)
        deadline = self._clock.now() + self._timeout - min(1.0, MARGIN * self._timeout)
        request = Envelope(
            Topic(
                MessageType.CALL,
                target=self._server,
                source=self._source,
                name="Devices.Execute",
                method=EXECUTE,
                id=secrets.token_hex(8),
            ),
            Message(params=encode_operations(self.name, operations, deadline=deadline, key=key)),
        )
        try:
            reply = await self._bus.request(request, timeout=self._timeout)
        except TimeoutError:
            raise DeviceUnavailable(
                self.name, f"node {self.machine} did not answer within {self._timeout:g} s"
            ) from None
        except Exception as exc:  # the bus itself refused (disconnected, not started)
            raise DeviceUnavailable(
                self.name, f"node {self.machine} is unreachable: {exc}"
            ) from exc
        values = self._values_of(reply)
        self.heard()
        self._apply(values)
        return values

    async def _refresh_quietly(self) -> None:
        try:
            await self.seed()
        except DeviceUnavailable as exc:
            log.info("remote device not read: %s", exc)

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

    def _apply(self, values: Values) -> None:
        """Take ``values`` into the mirror; the watchers get those that changed."""
        changed = {
            name: value
            for name, value in values.items()
            if name in self._state and self._state[name] != value
        }
        if not changed:
            return
        self._state.update(changed)
        for watcher in tuple(self._watchers):
            try:
                watcher(changed)
            except Exception:
                log.exception("watcher of %s failed", self.name)

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name is not None and name in self._state and envelope.message.has_value:
            self.heard()
            self._apply({name: envelope.message.value})

    def _follow(self) -> None:
        """Subscribe to what is needed now (every variable, or the kept ones), then drop
        the old subscriptions: a change in between arrives twice, never not at all."""
        names: tuple[str, ...] = ("*",) if self._watchers or self._kept is None else self._kept
        old = self._subscriptions
        self._subscriptions = [
            self._bus.subscribe(
                TopicFilter(
                    type=MessageType.UPDATE, source=self.name, target=BROADCAST, name=state_name(n)
                ),
                self._on_update,
            )
            for n in names
        ]
        self._unfollow(old)

    @staticmethod
    def _unfollow(subscriptions: Iterable[Subscription]) -> None:
        for subscription in subscriptions:
            subscription.unsubscribe()
