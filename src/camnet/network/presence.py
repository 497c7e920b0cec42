"""Presence: which services exist on the network, on which node, and whether they are up.

Every node answers ``Identify`` with one ``Self`` per local service (with its details: a
device's profile), and announces those once when it starts. After that its heartbeat is
**one** message per node every ``interval`` seconds, not one per service (issue 19: a
network of 50 nodes would otherwise spend a third of its messages on heartbeats): a
``Self`` from ``MachineName-Presence`` named ``Heartbeat`` whose value is ``{"Machine",
"Kind": "node", "Interval", "Services": {name: kind, …}}``. Every node listens to every
``Self`` and keeps a directory; a heartbeat refreshes every service it lists, and a listed
service this node has not heard a full ``Self`` of is asked to ``Identify`` (at most once
per three intervals). A service whose node has been silent for three intervals is offline
(the seed's network has no central registry, so each node sees the network for itself).
A node that starts asks the network to ``Identify`` itself, so it knows the others at
once instead of after one heartbeat. A custom service (``network/service.py``) still
sends its own ``Self`` as its heartbeat; both kinds are understood.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Final

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic
from camnet.clock import Clock

log = logging.getLogger(__name__)

MISSED_BEATS: Final = 3
HEARTBEAT: Final = "Heartbeat"
"""The Name of a node's batched heartbeat (a ``Self`` of ``MachineName-Presence``)."""
NODE_KIND: Final = "node"


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
Heard = Callable[[ServiceInfo], None]


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
        self._listeners: list[Heard] = []
        self._asked: dict[str, float] = {}

    def on_heard(self, listener: Heard) -> None:
        """Call ``listener`` with each service's entry whenever its node is heard (a full
        ``Self`` or a heartbeat), after the directory took it: one subscription of the
        node hears presence (each message is delivered to a node once)."""
        self._listeners.append(listener)

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
                await self._bus.publish(self.heartbeat())
            except Exception as exc:  # the bus may be reconnecting; the next beat retries
                log.warning("presence heartbeat not sent: %s", exc)

    def heartbeat(self) -> Envelope:
        """This node's heartbeat: one message naming every local service."""
        value = {
            "Machine": self.machine,
            "Kind": NODE_KIND,
            "Interval": self.interval,
            "Services": {service.name: service.kind for service in self._local()},
        }
        return Envelope(
            Topic(MessageType.SELF, source=f"{self.machine}-Presence", name=HEARTBEAT),
            Message(value=value),
        )

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
        if kind == NODE_KIND and envelope.topic.name == HEARTBEAT:
            self._on_heartbeat(machine, float(interval), value.get("Services"))
            return
        details = {k: v for k, v in value.items() if k not in SELF_KEYS}
        self._heard(
            ServiceInfo(
                envelope.topic.source,
                machine,
                kind,
                float(interval),
                self._clock.monotonic(),
                details,
            )
        )

    def _on_heartbeat(self, machine: str, interval: float, services: object) -> None:
        if not isinstance(services, dict):
            return
        now = self._clock.monotonic()
        for name, kind in services.items():
            if not isinstance(name, str) or not isinstance(kind, str):
                continue
            known = self._directory.get(name)
            if known is not None and known.machine == machine:
                self._heard(replace(known, kind=kind, interval=interval, last_seen=now))
            elif now - self._asked.get(name, -math.inf) > MISSED_BEATS * interval:
                self._asked[name] = now
                self._ask(name)

    def _heard(self, info: ServiceInfo) -> None:
        self._directory[info.name] = info
        for listener in self._listeners:
            try:
                listener(info)
            except Exception:
                log.exception("presence listener %r failed", listener)

    def _ask(self, name: str) -> None:
        """Ask a service heard of only in a heartbeat for its full ``Self``."""
        ask = Envelope(Topic(MessageType.IDENTIFY, target=name, source=f"{self.machine}-Presence"))
        task = asyncio.create_task(self._bus.publish(ask))
        self._replies.add(task)
        task.add_done_callback(self._replies.discard)

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
