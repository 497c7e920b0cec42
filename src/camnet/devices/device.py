"""A device is a service with typed state; ``execute`` is the one path every change takes.

Whoever asks (an HTTP request, a WebSocket message, a bus Set, the device's own
simulation), a change goes validate → apply to the device → commit → publish:

1. every operation of a request is staged against a private overlay of the state, so a
   refusal anywhere leaves nothing half-applied;
2. the persisted variables among the staged values are committed to the database in one
   transaction, and only then does the in-memory state change;
3. each variable whose value changed is published as an ``Update`` on the bus, which is
   how WebSocket clients, other nodes and every later subscriber learn about it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from camnet.bus.base import Bus
from camnet.bus.message import Envelope, Message, MessageType, Topic, update
from camnet.clock import Clock, SystemClock
from camnet.events import Event, EventJournal, EventKind
from camnet.network.service import Service, WriteRefused
from camnet.ops.logs import device as device_log_context
from camnet.state.coerce import from_json, saturate
from camnet.state.schema import JsonValue, Kind, Schema, Variable
from camnet.store.database import StoreBusy
from camnet.store.settings_store import SettingsStore

log = logging.getLogger(__name__)

__all__ = ["Behaviour", "Device", "Operation", "Read", "Staging", "Write", "WriteRefused"]


@dataclass(frozen=True, slots=True)
class Read:
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Write:
    variable: Variable
    value: JsonValue
    """Already coerced to the variable's type; for a relative variable, the change."""


Operation = Read | Write


@dataclass(slots=True)
class Staging:
    """The overlay one request writes into before anything is committed."""

    base: Mapping[str, JsonValue]
    values: dict[str, JsonValue] = field(default_factory=dict)
    notices: list[tuple[str, str]] = field(default_factory=list)

    def __getitem__(self, name: str) -> JsonValue:
        return self.values[name] if name in self.values else self.base[name]

    def set(self, name: str, value: JsonValue) -> None:
        self.values[name] = value

    def notify(self, variable: str, message: str) -> None:
        """Tell clients why a write did not have the effect asked for."""
        self.notices.append((variable, message))


class Behaviour(Protocol):
    """What makes one kind of device behave like hardware."""

    def initial_state(self) -> dict[str, JsonValue]:
        """Values that come from the device itself (measured, host facts) at start."""
        ...

    def stage(self, variable: Variable, value: JsonValue, staging: Staging) -> None:
        """Apply one absolute write to the staging overlay, or raise WriteRefused."""
        ...

    async def run(self, device: Device) -> None:
        """Produce measured values for as long as the device runs."""
        ...


def absolute_value(variable: Variable, change: JsonValue, current: JsonValue) -> JsonValue:
    """For a relative variable, the saturated sum of current value and change."""
    if not variable.relative:
        return change
    if variable.kind is Kind.JSON:
        assert isinstance(current, dict)
        assert isinstance(change, dict)
        return {
            member: float(saturate(variable, float(current[member]) + float(change.get(member, 0))))
            for member in current
        }
    if variable.kind is Kind.INT:
        return int(saturate(variable, int(current) + int(change)))
    return float(saturate(variable, float(current) + float(change)))


class Device(Service):
    """A camera (or any hardware) on the network: a ``Service`` whose data is a schema of
    typed variables and whose every change goes through ``execute``.

    The message protocol (Get, Set, Call, the error Log) is ``Service``'s; what a device
    adds is its own write path (settings committed to the node's database with their
    events) and a behaviour that makes it act like hardware. The node announces its
    devices (presence), and their settings live in the node's database, not the Store.
    """

    def __init__(
        self,
        name: str,
        schema: Schema,
        bus: Bus,
        settings: SettingsStore,
        behaviour: Behaviour,
        journal: EventJournal | None = None,
        clock: Clock | None = None,
    ) -> None:
        """``journal``: where changes of writable variables are recorded as ``state``
        events, in the same transaction as the persisted values (None: no events)."""
        super().__init__(name, kind="device", store=None, announce=False)
        self._journal = journal
        self._clock = clock or SystemClock()
        self.schema = schema
        self._bus = bus
        self._settings = settings
        self._behaviour = behaviour
        self._state = schema.defaults()

    async def start(self, bus: Bus | None = None) -> None:
        stored = await self._settings.load(self.name)
        for name, value in stored.items():
            variable = self.schema.get(name)
            if variable is not None and variable.persisted:
                self._state[name] = value
        self._state.update(self._behaviour.initial_state())
        await super().start(bus)
        self._tasks.append(asyncio.create_task(self._run_behaviour(), name=f"{self.name}-sim"))

    async def _run_behaviour(self) -> None:
        # Records the behaviour logs carry this device's name (camnet.ops.logs).
        device_log_context.set(self.name)
        try:
            await self._behaviour.run(self)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("simulation of %s stopped", self.name)

    async def execute(self, operations: Sequence[Operation]) -> dict[str, JsonValue]:
        """Run reads and writes in the written order as one unit.

        Returns the value of every variable read or written, as it stands after the
        operations before it; raises WriteRefused with nothing applied.
        """
        async with self._lock:
            staging = Staging(self._state)
            result: dict[str, JsonValue] = {}
            for operation in operations:
                if isinstance(operation, Read):
                    for name in operation.names:
                        result[name] = staging[name]
                    continue
                variable = operation.variable
                current = staging[variable.name] if variable.readable else None
                value = absolute_value(variable, operation.value, current)
                self._behaviour.stage(variable, value, staging)
                if variable.readable:
                    result[variable.name] = staging[variable.name]
            await self._commit(staging)
        for variable_name, message in staging.notices:
            await self.notify(variable_name, message)
        return result

    async def _commit(self, staging: Staging) -> None:
        changed = {
            name: value for name, value in staging.values.items() if self._state[name] != value
        }
        persisted = {name: value for name, value in changed.items() if self.schema[name].persisted}
        events: list[Event] = []
        if self._journal is not None:
            now = self._clock.now()
            events = [
                Event(EventKind.STATE, self.name, now, {"name": name, "value": value})
                for name, value in changed.items()
                if self.schema[name].writable
            ]
        try:
            stored = await self._settings.save(self.name, persisted, events)
        except StoreBusy as exc:  # nothing stored, nothing applied: the faces answer 503
            # surface.py imports this module, hence the late import.
            from camnet.devices.surface import DeviceUnavailable

            raise DeviceUnavailable(self.name, f"cannot store the change now: {exc}") from None
        self._state.update(changed)
        for name, value in changed.items():
            await self._bus.publish(update(self.name, name, value))
        if self._journal is not None and stored:
            await self._journal.announce(stored)

    async def report(self, values: Mapping[str, JsonValue]) -> None:
        """Measured values from the device itself: published when they change."""
        for name, value in values.items():
            if self._state.get(name) != value:
                self._state[name] = value
                await self._bus.publish(update(self.name, name, value))

    async def notify(self, variable: str, message: str) -> None:
        """A Log message on the bus saying why a write did not take effect."""
        log.info("%s: %s: %s", self.name, variable, message, extra={"device": self.name})
        await self._bus.publish(
            Envelope(
                Topic(MessageType.LOG, source=self.name, name=f"Notification.{variable}"),
                Message(value={"level": "warning", "variable": variable, "message": message}),
            )
        )

    def coerce(self, variable: Variable, value: JsonValue) -> JsonValue:
        return from_json(variable, value)

    async def write(self, variable: Variable, value: JsonValue) -> dict[str, JsonValue]:
        """A Set from the network takes the one path every change takes."""
        return await self.execute([Write(variable, value)])

    async def apply_reset(self, envelope: Envelope) -> None:
        """Devices take no Reset over the bus (as before); their defaults are a setting."""
        return None
