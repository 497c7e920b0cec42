"""The small interface every bus transport implements."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope

Handler = Callable[[Envelope], None]
"""A subscriber callback. Runs on the event loop and must not block: enqueue, don't work."""


class Subscription(Protocol):
    def unsubscribe(self) -> None: ...


class Bus(Protocol):
    """Publish, subscribe with wildcards, request/reply."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(self, envelope: Envelope) -> None: ...

    def subscribe(self, topic_filter: TopicFilter, handler: Handler) -> Subscription: ...

    async def request(self, envelope: Envelope, timeout: float = 5.0) -> Envelope: ...
