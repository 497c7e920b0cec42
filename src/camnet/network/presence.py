"""Presence: which services exist on the network, on which node, and whether they are up.

Every node answers ``Identify`` with one ``Self`` per local service and repeats those
``Self`` messages as a heartbeat every ``interval`` seconds. Every node listens to every
``Self`` and keeps a directory; a service whose node has been silent for three intervals
is offline (the seed's network has no central registry, so each node sees the network
for itself). A node that starts asks the network to ``Identify`` itself, so it knows the
others at once instead of after one heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic
from camnet.clock import Clock

log = logging.getLogger(__name__)

MISSED_BEATS: Final = 3


@dataclass(frozen=True, slots=True)
class LocalService:
    name: str
    kind: str
    """What the service is: ``device``, ``hub``, ``gateway``…"""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    name: str
    machine: str
    kind: str
    interval: float
    last_seen: float
    """Monotonic time of the last ``Self`` heard."""
    details: Mapping[str, Any] = field(default_factory=dict)
    """The other members of the ``Self`` value (a device's ``Profile``, ``Mxid``…)."""

    def online(self, now: float) -> bool:
        return now - self.last_seen <= MISSED_BEATS * self.interval

    def to_json(self, now: float) -> dict[str, Any]:
        return {
            "name": self.name,
            "machine": self.machine,
            "kind": self.kind,
            "online": self.online(now),
        }


SELF_KEYS: Final = frozenset({"Machine", "Kind", "Interval"})


def self_message(
    service: LocalService,
    machine: str,
    interval: float,
    target: str = BROADCAST,
    id: str = "",
    details: Mapping[str, Any] | None = None,
) -> Envelope:
    """``details``: more members of the value, for what a service wants others to know
    of it (a device's profile, so another node can serve it; see docs/network.md)."""
    value = {**(details or {}), "Machine": machine, "Kind": service.kind, "Interval": interval}
    return Envelope(
        Topic(MessageType.SELF, target=target, source=service.name, name="Self", id=id),
        Message(value=value),
    )


class Presence:
    """Announces this node's services and keeps the directory of everyone's."""

    def __init__(
        self,
        bus: Bus,
        machine: str,
        clock: Clock,
        local: Callable[[], Iterable[LocalService]],
        interval: float = 2.0,
    ) -> None:
        self._bus = bus
        self.machine = machine
        self._clock = clock
        self._local = local
        self.interval = interval
        self._directory: dict[str, ServiceInfo] = {}
        self._subscriptions: list[Subscription] = []
        self._task: asyncio.Task[None] | None = None
        self._replies: set[asyncio.Task[None]] = set()
        self._details: dict[str, dict[str, Any]] = {}

    def describe(self, service: str, details: Mapping[str, Any]) -> None:
        """Extra members of a local service's ``Self`` value (added to the three fixed ones)."""
        self._details[service] = {k: v for k, v in details.items() if k not in SELF_KEYS}

    async def start(self) -> None:
        self._subscriptions = [
            self._bus.subscribe(TopicFilter(type=MessageType.SELF), self._on_self),
            self._bus.subscribe(TopicFilter(type=MessageType.IDENTIFY), self._on_identify),
        ]
        await self._announce()
        await self._bus.publish(
            Envelope(Topic(MessageType.IDENTIFY, source=f"{self.machine}-Presence"))
        )
        self._task = asyncio.create_task(self._beat(), name="presence")

    async def stop(self) -> None:
        for subscription in self._subscriptions:
            subscription.unsubscribe()
        self._subscriptions.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def services(self) -> list[ServiceInfo]:
        """Every service heard of, local ones included, by name."""
        return sorted({**self._directory, **self._here()}.values(), key=lambda info: info.name)

    def info(self, name: str) -> ServiceInfo | None:
        return self._here().get(name) or self._directory.get(name)

    def is_online(self, name: str) -> bool:
        info = self.info(name)
        return info is not None and info.online(self._clock.monotonic())

    def _here(self) -> dict[str, ServiceInfo]:
        """This node's own services, online as long as it runs: they need no bus to be
        heard, so a NATS outage never shows them offline here (issue 19)."""
        now = self._clock.monotonic()
        return {
            service.name: ServiceInfo(
                service.name,
                self.machine,
                service.kind,
                self.interval,
                now,
                self._details.get(service.name, {}),
            )
            for service in self._local()
        }

    def now(self) -> float:
        return self._clock.monotonic()

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self._announce()
            except Exception as exc:  # the bus may be reconnecting; the next beat retries
                log.warning("presence heartbeat not sent: %s", exc)

    async def _announce(self, target: str = BROADCAST, id: str = "") -> None:
        for service in self._local():
            details = self._details.get(service.name)
            await self._bus.publish(
                self_message(service, self.machine, self.interval, target, id, details)
            )

    def _on_self(self, envelope: Envelope) -> None:
        value = envelope.message.value if envelope.message.has_value else None
        if not isinstance(value, dict) or not envelope.topic.source:
            return
        machine, kind, interval = value.get("Machine"), value.get("Kind"), value.get("Interval")
        if not isinstance(machine, str) or not isinstance(kind, str):
            return
        if not isinstance(interval, int | float) or interval <= 0:
            return
        details = {k: v for k, v in value.items() if k not in SELF_KEYS}
        self._directory[envelope.topic.source] = ServiceInfo(
            envelope.topic.source, machine, kind, float(interval), self._clock.monotonic(), details
        )

    def _on_identify(self, envelope: Envelope) -> None:
        target = envelope.topic.target
        local = list(self._local())
        if target != BROADCAST and target not in {service.name for service in local}:
            return
        reply_to = envelope.topic.respond_to or envelope.topic.source or BROADCAST
        chosen = local if target == BROADCAST else [s for s in local if s.name == target]

        async def answer() -> None:
            for service in chosen:
                await self._bus.publish(
                    self_message(
                        service,
                        self.machine,
                        self.interval,
                        reply_to,
                        envelope.topic.id,
                        self._details.get(service.name),
                    )
                )

        task = asyncio.create_task(answer())
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)
