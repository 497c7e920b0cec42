"""The NATS bus: the same interface as the local bus, across machines.

Envelopes travel on subjects derived from their topics (``bus/subjects.py``); the payload
is the envelope's multipart wire form, each frame prefixed with its 4-byte big-endian
length, so an attachment (a frame) rides along unchanged. The client reconnects by itself
for as long as the bus runs; while the server is away publishes are buffered by nats-py
up to its pending limit, but requests are refused at once (a buffered request would be
sent on reconnect, after its caller was told it failed) — nothing is acknowledged that
did not happen, and nothing refused is applied later.

A node serves before the server answers (issue 19): ``start`` waits at most the connect
timeout for the first connection and otherwise goes on connecting in the background.
Until that first connection the bus is this node alone: a publish reaches this node's
own subscribers (so its own devices, WebSocket clients and presence keep working) and
nothing is queued for the network; the subscriptions made meanwhile are made on the
server once it answers.

The bus interface's ``subscribe`` is synchronous (a subscriber must be able to subscribe
from a callback), while a NATS subscription is created by a coroutine. The subscription
is therefore started as a task and every later ``publish`` first waits for the pending
ones: NATS keeps the order of one connection's commands, so a subscription made before a
publish sees it, exactly as on the local bus.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from dataclasses import dataclass, field, replace
from typing import Any

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription as NatsSubscription
from nats.js.client import JetStreamContext

from camnet.bus.base import Handler
from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, MessageError
from camnet.bus.subjects import pattern_of, root_of, subject_of

log = logging.getLogger(__name__)

_LENGTH = struct.Struct(">I")


def pack_frames(frames: list[bytes]) -> bytes:
    """Length-prefixed frames in one payload."""
    return b"".join(_LENGTH.pack(len(frame)) + frame for frame in frames)


def unpack_frames(payload: bytes) -> list[bytes]:
    """The frames of ``pack_frames``; MessageError when the payload is cut or padded."""
    frames: list[bytes] = []
    offset = 0
    while offset < len(payload):
        if offset + _LENGTH.size > len(payload):
            raise MessageError("payload ends inside a frame length")
        (length,) = _LENGTH.unpack_from(payload, offset)
        offset += _LENGTH.size
        if offset + length > len(payload):
            raise MessageError("payload ends inside a frame")
        frames.append(payload[offset : offset + length])
        offset += length
    return frames


@dataclass(eq=False)
class _Shared:
    """One NATS subscription and the bus subscriptions it delivers to."""

    ready: asyncio.Task[NatsSubscription]
    members: list[_NatsSubscription] = field(default_factory=list)


@dataclass(eq=False)
class _NatsSubscription:
    bus: NatsBus
    topic_filter: TopicFilter
    handler: Handler
    ready: asyncio.Task[NatsSubscription] | None = None
    active: bool = field(default=True)
    queue: str = ""

    def unsubscribe(self) -> None:
        if not self.active:
            return
        self.active = False
        self.bus._forget(self)


class NatsBus:
    """Publish, subscribe with wildcards and request/reply over a NATS server."""

    def __init__(
        self, url: str, node_name: str = "local", connect_timeout: float = 2.0, network: str = ""
    ) -> None:
        """``network``: the network's name; nodes hear only nodes of the same network
        (``subjects.root_of``). Empty: the default network."""
        self.url = url
        self._root = root_of(network)
        self._node_name = node_name
        self._connect_timeout = connect_timeout
        self._client: Client | None = None
        self._subscriptions: list[_NatsSubscription] = []
        self._shared: dict[str, _Shared] = {}
        """Shared NATS subscriptions by subject pattern (never for queue groups)."""
        self._pending: set[asyncio.Task[Any]] = set()
        self.published = 0
        self.connected = False
        self._stopping = False
        self._connector: asyncio.Task[None] | None = None
        self._first_connection = asyncio.Event()
        self._errors_shown = 0

    async def start(self) -> None:
        """Connect, waiting at most the connect timeout; then go on in the background."""
        self._stopping = False
        self._connector = asyncio.create_task(self._connect(), name="camnet-nats-connect")
        try:
            await asyncio.wait_for(self._first_connection.wait(), self._connect_timeout)
        except TimeoutError:
            log.warning(
                "NATS %s does not answer; serving this node alone, connecting in the background",
                self.url,
            )

    async def _connect(self) -> None:
        while True:
            try:
                client = await nats.connect(
                    self.url,
                    name=f"camnet-{self._node_name}",
                    connect_timeout=self._connect_timeout,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                )
                break
            except Exception as exc:  # refused by the server (auth…): say so, try again
                log.error("NATS %s refused the connection: %s", self.url, exc)
                await asyncio.sleep(5.0)
        self._client = client
        self.connected = True
        if self._errors_shown:
            log.warning("NATS %s: connected", self.url)
        for subscription in self._subscriptions:
            self._start_subscription(subscription)
        self._first_connection.set()

    async def stop(self) -> None:
        client, self._client = self._client, None
        self._stopping = True
        self._subscriptions.clear()
        self._shared.clear()
        connector, self._connector = self._connector, None
        if connector is not None and not connector.done():
            connector.cancel()
            await asyncio.gather(connector, return_exceptions=True)
        if client is not None:
            await client.drain()
        self.connected = False

    async def publish(self, envelope: Envelope) -> None:
        client = self._client
        if client is None and self._connector is not None:
            self._deliver_here(envelope)  # not connected yet: this node alone
            return
        client = self._require_client()
        await self._settle()
        self.published += 1
        await client.publish(subject_of(envelope.topic, self._root), pack_frames(envelope.encode()))

    def subscribe(self, topic_filter: TopicFilter, handler: Handler) -> _NatsSubscription:
        subscription = _NatsSubscription(self, topic_filter, handler)
        self._subscriptions.append(subscription)
        if self._client is not None:
            self._start_subscription(subscription)
        return subscription

    def subscribe_queue(
        self, topic_filter: TopicFilter, queue: str, handler: Handler
    ) -> _NatsSubscription:
        """Join a NATS queue group: the server hands each message to one member only."""
        subscription = _NatsSubscription(self, topic_filter, handler, queue=queue)
        self._subscriptions.append(subscription)
        if self._client is not None:
            self._start_subscription(subscription)
        return subscription

    def jetstream(self) -> JetStreamContext:
        """JetStream on this bus's connection (the network Store keeps its KV bucket there)."""
        return self._require_client().jetstream()

    async def request(self, envelope: Envelope, timeout: float = 5.0) -> Envelope:
        """Publish with a fresh reply inbox and ID; return the first reply targeted there.

        Refused at once (``ConnectionError``) while the connection is down: nats-py would
        buffer the request and send it on reconnect, after its caller was told it failed.
        Before the first connection the request goes to this node's own services only
        (``publish``), so nothing is queued for the network either."""
        client = self._client
        if client is None and self._connector is None:
            raise RuntimeError("the NATS bus is not started")
        if client is not None and not client.is_connected:
            raise ConnectionError(f"NATS {self.url} is disconnected")
        inbox = f"{self._node_name}-_INBOX.{secrets.token_hex(8)}"
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

    async def flush(self, timeout: float = 2.0) -> None:
        """Wait until the server has seen everything sent so far (a round trip)."""
        await self._settle()
        await self._require_client().flush(max(1, round(timeout)))

    # --- internals ----------------------------------------------------------------------

    def _require_client(self) -> Client:
        if self._client is None:
            raise RuntimeError("the NATS bus is not started")
        return self._client

    async def _settle(self) -> None:
        while self._pending:
            await asyncio.gather(*tuple(self._pending), return_exceptions=True)

    def _start_subscription(self, subscription: _NatsSubscription) -> None:
        client = self._require_client()
        pattern = pattern_of(subscription.topic_filter, self._root)
        shared = self._shared.get(pattern) if not subscription.queue else None
        if shared is not None:
            shared.members.append(subscription)
            subscription.ready = shared.ready
            return
        members = [subscription]

        async def deliver(message: Msg) -> None:
            envelope: Envelope | None = None
            for member in tuple(members):
                if not member.active:
                    continue
                if envelope is None:
                    try:
                        envelope = Envelope.decode(unpack_frames(message.data))
                    except MessageError as exc:
                        log.warning(
                            "dropped a message on %s that is not an envelope: %s",
                            message.subject,
                            exc,
                        )
                        return
                if not member.topic_filter.matches(envelope.topic):
                    continue
                try:
                    member.handler(envelope)
                except Exception:
                    log.exception("bus subscriber %r failed on %s", member.handler, envelope.topic)

        task = asyncio.ensure_future(
            client.subscribe(pattern, queue=subscription.queue, cb=deliver)
        )
        subscription.ready = task
        if not subscription.queue:
            self._shared[pattern] = _Shared(task, members)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    def _deliver_here(self, envelope: Envelope) -> None:
        """Hand an envelope to this node's own matching subscribers (see the module's
        docstring); a later subscriber does not see it, as on the local bus."""
        self.published += 1
        for subscription in tuple(self._subscriptions):
            if subscription.active and subscription.topic_filter.matches(envelope.topic):
                try:
                    subscription.handler(envelope)
                except Exception:
                    log.exception(
                        "bus subscriber %r failed on %s", subscription.handler, envelope.topic
                    )

    def _forget(self, subscription: _NatsSubscription) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
        task = subscription.ready
        if task is None or self._client is None:
            return
        pattern = pattern_of(subscription.topic_filter, self._root)
        shared = self._shared.get(pattern)
        if shared is not None and shared.ready is task:
            if subscription in shared.members:
                shared.members.remove(subscription)
            if shared.members:
                return  # others still listen on this NATS subscription
            del self._shared[pattern]

        async def unsubscribe() -> None:
            try:
                nats_subscription = await task
                await nats_subscription.unsubscribe()
            except Exception as exc:  # the connection may be closing; nothing to undo then
                log.debug("unsubscribe after close: %s", exc)

        pending = asyncio.ensure_future(unsubscribe())
        self._pending.add(pending)
        pending.add_done_callback(self._pending.discard)

    async def _on_error(self, exc: Exception) -> None:
        if self._client is None:
            # Before the first connection nats-py retries every 0.5 s: say it once.
            self._errors_shown += 1
            if self._errors_shown > 1:
                log.debug("NATS %s: %s", self.url, exc)
                return
        log.warning("NATS %s: %s", self.url, exc)

    async def _on_disconnected(self) -> None:
        self.connected = False
        if not self._stopping:
            log.warning("NATS %s: disconnected; reconnecting", self.url)

    async def _on_reconnected(self) -> None:
        self.connected = True
        log.info("NATS %s: reconnected", self.url)
