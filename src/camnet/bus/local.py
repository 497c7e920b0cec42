"""The in-process bus: zero set-up, the default for a single node."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field, replace

from camnet.bus.base import Handler
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _LocalSubscription:
    bus: LocalBus
    topic_filter: TopicFilter
    handler: Handler
    active: bool = field(default=True)
    queue: str = ""

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self.bus._subscriptions.remove(self)


class LocalBus:
    """Delivers each published envelope synchronously to every matching subscriber.

    Handlers run on the publisher's turn of the event loop, so a state change reaches its
    subscribers with no queueing in between; a handler that raises is logged and the
    others still receive the envelope.
    """

    def __init__(self, node_name: str = "local") -> None:
        self._subscriptions: list[_LocalSubscription] = []
        self._node_name = node_name
        self.published = 0

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        self._subscriptions.clear()

    async def publish(self, envelope: Envelope) -> None:
        self.publish_nowait(envelope)

    def publish_nowait(self, envelope: Envelope) -> None:
        """Deliver at once; available because this transport has no I/O."""
        self.published += 1
        served: set[str] = set()
        for subscription in tuple(self._subscriptions):
            if subscription.active and subscription.topic_filter.matches(envelope.topic):
                if subscription.queue:
                    if subscription.queue in served:
                        continue
                    served.add(subscription.queue)
                try:
                    subscription.handler(envelope)
                except Exception:
                    log.exception(
                        "bus subscriber %r failed on %s", subscription.handler, envelope.topic
                    )

    def subscribe(self, topic_filter: TopicFilter, handler: Handler) -> _LocalSubscription:
        subscription = _LocalSubscription(self, topic_filter, handler)
        self._subscriptions.append(subscription)
        return subscription

    def subscribe_queue(
        self, topic_filter: TopicFilter, queue: str, handler: Handler
    ) -> _LocalSubscription:
        """Join a queue group: each matching envelope goes to one member of the group only.

        In one process there is one member per group that matters (the first still
        subscribed), the same outcome a NATS queue group gives across processes.
        """
        subscription = _LocalSubscription(self, topic_filter, handler, queue=queue)
        self._subscriptions.append(subscription)
        return subscription

    async def request(self, envelope: Envelope, timeout: float = 5.0) -> Envelope:
        """Publish with a fresh reply inbox and ID; return the first reply targeted there."""
        inbox = f"{self._node_name}-_INBOX.{secrets.token_hex(8)}"
        request_id = envelope.topic.id or secrets.token_hex(8)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future[Envelope] = loop.create_future()

        def on_reply(candidate: Envelope) -> None:
            if not reply.done() and candidate.topic.id in ("", request_id):
                reply.set_result(candidate)

        subscription = self.subscribe(TopicFilter(target=inbox), on_reply)
        try:
            topic = replace(envelope.topic, respond_to=inbox, id=request_id)
            await self.publish(replace(envelope, topic=topic))
            return await asyncio.wait_for(reply, timeout)
        finally:
            subscription.unsubscribe()
