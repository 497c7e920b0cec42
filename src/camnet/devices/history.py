"""A short in-memory history of the readings a person would rather see plotted.

The dashboard draws temperatures and pressures over the last hour, and the use of the
recording storage over time. Nothing else keeps these values over time, so this keeps
them: it listens to the devices' Updates on the bus (the one path every change takes)
and keeps, per device and variable, at most one point per ``resolution`` seconds for
``window`` seconds. Which variables are kept is derived from the schema (a unit of
temperature or pressure), plus the storage figures named below; nothing is declared
twice. The history lives in memory only: a restart starts it again (documented).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, MessageType, state_name, variable_of
from camnet.clock import Clock
from camnet.devices.device import Device
from camnet.state.schema import JsonValue, Schema

KIND_OF_UNIT: Final = {"°C": "temperature", "mbar": "pressure"}
STORAGE_VARIABLES: Final = {
    "backupStorage": "B",
    "recordingStorage": "B",
    "backupStoredFileDuration": "s",
}
"""Storage figures of the c2 control unit: the bytes used on the backup and recording
storages (their description's ``used``), and the backup video kept, in seconds."""
_NUMBER: Final = re.compile(r"^\s*(-?\d+(?:\.\d+)?)")
_DURATION: Final = re.compile(r"^\s*(\d+):(\d{1,2})(?::(\d{1,2}))?\s*h?\s*$")


def reading(value: JsonValue) -> float | None:
    """A number out of a reading: 40.5, "40.5°C", "1150mbar", a duration "1:05h"
    (hours and minutes, as the c2 unit writes them) in seconds, or a storage
    description's ``used`` bytes."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, dict):
        return reading(value.get("used"))
    if not isinstance(value, str):
        return None
    duration = _DURATION.match(value)
    if duration is not None:
        hours, minutes, seconds = duration.groups()
        return int(hours) * 3600.0 + int(minutes) * 60.0 + int(seconds or 0)
    number = _NUMBER.match(value)
    return float(number.group(1)) if number else None


@dataclass(frozen=True, slots=True)
class Tracked:
    kind: str
    unit: str


def tracked_variables(schema: Schema) -> dict[str, Tracked]:
    """The variables of ``schema`` worth plotting, with their kind and unit."""
    out: dict[str, Tracked] = {}
    for variable in schema:
        if variable.unit in KIND_OF_UNIT:
            out[variable.name] = Tracked(KIND_OF_UNIT[variable.unit], variable.unit)
        elif variable.name in STORAGE_VARIABLES:
            out[variable.name] = Tracked("storage", STORAGE_VARIABLES[variable.name])
    return out


@dataclass
class Series:
    device: str
    variable: str
    tracked: Tracked
    points: deque[tuple[float, float]] = field(default_factory=deque)

    def add(self, at: float, value: float, window: float, resolution: float) -> None:
        points = self.points
        # One point per step of ``resolution`` seconds: the newest value of the step.
        if points and int(points[-1][0] // resolution) == int(at // resolution):
            points.pop()
        points.append((at, value))
        while points and points[0][0] < at - window:
            points.popleft()

    def as_json(self, since: float) -> dict[str, object]:
        return {
            "device": self.device,
            "variable": self.variable,
            "kind": self.tracked.kind,
            "unit": self.tracked.unit,
            "points": [[round(t, 3), v] for t, v in self.points if t >= since],
        }


class ReadingHistory:
    """Keeps the tracked readings of some devices; ``start``/``stop`` wire it to the bus."""

    def __init__(
        self,
        bus: Bus,
        clock: Clock,
        *,
        window: float = 3600.0,
        resolution: float = 5.0,
    ) -> None:
        self._bus = bus
        self._clock = clock
        self.window = window
        self.resolution = resolution
        self._series: dict[tuple[str, str], Series] = {}
        self._tracked: dict[str, dict[str, Tracked]] = {}
        self._subscriptions: list[Subscription] = []

    def start(self, devices: Iterable[Device]) -> None:
        now = self._clock.now()
        for device in devices:
            tracked = self.track(device.name, device.schema)
            if not tracked:
                continue
            for name in tracked:
                self.record(device.name, name, device.state.get(name), now)
            self._subscriptions.append(
                self._bus.subscribe(
                    TopicFilter(
                        type=MessageType.UPDATE,
                        source=device.name,
                        target=BROADCAST,
                        name=state_name("*"),
                    ),
                    self._on_update,
                )
            )

    def track(self, device: str, schema: Schema) -> dict[str, Tracked]:
        """Keep the plotted variables of ``device`` from now on; returns them."""
        tracked = tracked_variables(schema)
        if tracked:
            self._tracked[device] = tracked
        return tracked

    def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions.clear()

    def _on_update(self, envelope: Envelope) -> None:
        name = variable_of(envelope.topic.name)
        if name is not None:
            self.record(envelope.topic.source, name, envelope.message.value, self._clock.now())

    def record(self, device: str, variable: str, value: JsonValue, at: float) -> None:
        tracked = self._tracked.get(device, {}).get(variable)
        number = reading(value)
        if tracked is None or number is None:
            return
        key = (device, variable)
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = Series(device, variable, tracked)
        series.add(at, number, self.window, self.resolution)

    def snapshot(self, since: float | None = None) -> dict[str, object]:
        """Every series, oldest point first; ``since`` (unix seconds) trims the start."""
        now = self._clock.now()
        start = max(now - self.window, since if since is not None else 0.0)
        return {
            "now": now,
            "window": self.window,
            "resolution": self.resolution,
            "series": [s.as_json(start) for s in self._series.values()],
        }
