"""The bus as a ZeroMQ client of a node's hub: how a program outside camnet joins the network.

This is what a user of the vendor's product does: a PUB socket connected to the hub's
publish port (16202) and a SUB socket connected to its subscribe port (16201). Everything
published goes into the hub and onto the node's bus; everything on that bus comes back
out of the subscribe port, this client's own messages included. Subscribers here are
therefore fed only from the SUB socket, never short-cut locally, so every subscriber sees
each envelope exactly once and in the order the hub sent it.

ZeroMQ drops what a PUB socket sends before its connection is up ("slow joiner");
``start`` therefore sends a probe until it comes back through the hub, so that once
started, nothing sent is lost on the way in.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass, field, replace

import zmq
import zmq.asyncio

from camnet.bus.base import Handler
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, MessageError, MessageType, Topic

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _ZmqSubscription:
    bus: ZmqBus
    topic_filter: TopicFilter
    handler: Handler
    active: bool = field(default=True)

    def unsubscribe(self) -> None:
        if self.active:
            self.active = False
            self.bus._subscriptions.remove(self)


class ZmqBus:
    """Publish into a hub, subscribe from it, request/reply through it."""

    def __init__(
        self,
        publish_url: str,
        subscribe_url: str,
        client_name: str = "client",
        connect_timeout: float = 5.0,
    ) -> None:
        """``publish_url``: the hub's publish port (``tcp://127.0.0.1:16202``);
        ``subscribe_url``: its subscribe port (``tcp://127.0.0.1:16201``)."""
        self.publish_url = publish_url
        self.subscribe_url = subscribe_url
        self._client_name = client_name
        self._connect_timeout = connect_timeout
        self._context: zmq.asyncio.Context | None = None
        self._pub: zmq.asyncio.Socket | None = None
        self._sub: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._subscriptions: list[_ZmqSubscription] = []
        self.published = 0

    @classmethod
    def for_hub(
        cls, host: str, publish_port: int, subscribe_port: int, client_name: str = "client"
    ) -> ZmqBus:
        """A client of the hub at ``host`` with the given ports (16202 and 16201 by default
        on a node)."""
        return cls(f"tcp://{host}:{publish_port}", f"tcp://{host}:{subscribe_port}", client_name)

    async def start(self) -> None:
        context = zmq.asyncio.Context()
        pub = context.socket(zmq.PUB)
        sub = context.socket(zmq.SUB)
        for socket in (pub, sub):
            socket.setsockopt(zmq.LINGER, 0)
        sub.setsockopt(zmq.SUBSCRIBE, b"")
        pub.connect(self.publish_url)
        sub.connect(self.subscribe_url)
        self._context, self._pub, self._sub = context, pub, sub
        self._task = asyncio.create_task(self._receive(), name="zmq-client")
        try:
            await self._wait_connected()
        except BaseException:
            await self.stop()
            raise

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for socket in (self._pub, self._sub):
            if socket is not None:
                socket.close()
        if self._context is not None:
            self._context.term()
        self._context = self._pub = self._sub = None
        self._subscriptions.clear()

    async def publish(self, envelope: Envelope) -> None:
        if self._pub is None:
            raise RuntimeError("the ZeroMQ bus is not started")
        self.published += 1
        await self._pub.send_multipart(envelope.encode())

    def subscribe(self, topic_filter: TopicFilter, handler: Handler) -> _ZmqSubscription:
        subscription = _ZmqSubscription(self, topic_filter, handler)
        self._subscriptions.append(subscription)
        return subscription

    async def request(self, envelope: Envelope, timeout: float = 5.0) -> Envelope:
        """Publish with a fresh reply inbox and ID; return the first reply targeted there."""
        inbox = f"{self._client_name}-_INBOX.{secrets.token_hex(8)}"
        request_id = envelope.topic.id or secrets.token_hex(8)
        reply: asyncio.Future[Envelope] = asyncio.get_running_loop().create_future()

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

    # --- internals ----------------------------------------------------------------------

    async def _wait_connected(self) -> None:
        """Send a probe until it comes back: both connections to the hub are then up."""
        probe = f"{self._client_name}-_PROBE.{secrets.token_hex(6)}"
        arrived = asyncio.Event()
        subscription = self.subscribe(TopicFilter(target=probe), lambda _: arrived.set())
        deadline = asyncio.get_running_loop().time() + self._connect_timeout
        try:
            while not arrived.is_set():
                if asyncio.get_running_loop().time() > deadline:
                    raise ConnectionError(
                        f"no ZeroMQ hub answered at {self.publish_url} / {self.subscribe_url} "
                        f"within {self._connect_timeout:g} s"
                    )
                await self.publish(Envelope(Topic(MessageType.IDENTIFY, target=probe)))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(arrived.wait(), 0.1)
        finally:
            subscription.unsubscribe()

    async def _receive(self) -> None:
        sub = self._sub
        assert sub is not None
        while True:
            frames = await sub.recv_multipart()
            try:
                envelope = Envelope.decode(frames)
            except MessageError as exc:
                log.warning("dropped a message from the hub that is not an envelope: %s", exc)
                continue
            for subscription in tuple(self._subscriptions):
                if subscription.active and subscription.topic_filter.matches(envelope.topic):
                    try:
                        subscription.handler(envelope)
                    except Exception:
                        log.exception(
                            "bus subscriber %r failed on %s", subscription.handler, envelope.topic
                        )
