"""The ZeroMQ hub: outside programs join the bus the way the network seed's clients do.

Clients publish multipart messages ``[Topic JSON, Message JSON, Attachment?]`` into the
hub's *publish* port (16202 by default, a SUB socket here) and subscribe from its
*subscribe* port (16201, a PUB socket here; ZeroMQ filters by the prefix of the first
frame, the topic JSON). Everything a client publishes goes onto camnet's bus, and
everything on the bus comes out of the subscribe port, so a client hears every service
and every other client, as the seed says: "any message that is sent to the network can be
listened to and acted on from any service".

The hub hears the bus only while a client is subscribed (issue 19: a node with no
ZeroMQ client must not receive every message of the network). Its subscribe port is an
XPUB socket, which tells the hub of the first subscription to each prefix and of the
last one leaving (a client that disconnects leaves its subscriptions); the hub
subscribes to the whole bus while any prefix is wanted and drops that subscription when
none is. A client therefore hears what is published after it subscribed, as with any
ZeroMQ PUB socket.

A message that does not decode, whose attachment is over the limit, or that addresses a
Get, Set, Reset or Call to a service presence has never heard of, never reaches the bus;
the hub answers with a ``Log`` message naming the problem (targeted at the sender's
``Source`` when it could be read) and keeps running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Final

import zmq
import zmq.asyncio

from camnet import strict_json
from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import (
    BROADCAST,
    Envelope,
    Message,
    MessageError,
    MessageType,
    Topic,
    resolve_local,
)
from camnet.faces.zmq_access import ZapHandler
from camnet.identity.anonymous import AnonymousAccess
from camnet.identity.permissions import DEFAULT_ACCOUNT, Role

log = logging.getLogger(__name__)

ADDRESSED: Final = frozenset(
    {MessageType.GET, MessageType.SET, MessageType.RESET, MessageType.CALL}
)
"""Types that only make sense for an existing service: refused when the Target is unknown."""
READING: Final = frozenset({MessageType.GET, MessageType.IDENTIFY})
"""What ``network:bus:read`` allows; every other type needs ``network:bus:write``."""


@dataclass(frozen=True, slots=True)
class HubConfig:
    host: str = "127.0.0.1"
    publish_port: int = 16202
    """Clients publish into this port (0: any free port)."""
    subscribe_port: int = 16201
    """Clients subscribe from this port (0: any free port)."""
    max_attachment_bytes: int = 16 * 1024 * 1024


class ZmqHub:
    """Bridges ZeroMQ clients and the bus; owned by the node, started and stopped with it."""

    def __init__(
        self,
        bus: Bus,
        service: str,
        config: HubConfig,
        is_known: Callable[[str], bool] | None = None,
        anonymous: AnonymousAccess | None = None,
    ) -> None:
        """``anonymous``: who the hub's peers are (they present no credentials); None
        (a hub built in code, not by the node) answers every peer as before."""
        self._bus = bus
        self._is_known = is_known
        self._anonymous = anonymous
        self._zap: ZapHandler | None = None
        self.service = service
        self._config = config
        self._context: zmq.asyncio.Context | None = None
        self._inbound: zmq.asyncio.Socket | None = None
        self._outbound: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self._wanted: set[bytes] = set()
        """The prefixes ZeroMQ clients subscribe to (the first one of each, as XPUB says)."""
        self.publish_port = 0
        self.subscribe_port = 0
        self.status: dict[str, object] = {"state": "stopped"}
        self.rejected = 0

    async def start(self) -> None:
        context = zmq.asyncio.Context()
        inbound = context.socket(zmq.SUB)
        outbound = context.socket(zmq.XPUB)
        for socket in (inbound, outbound):
            socket.setsockopt(zmq.LINGER, 0)
        inbound.setsockopt(zmq.SUBSCRIBE, b"")
        # A hard cap far above the attachment limit: ZeroMQ drops such a peer outright,
        # before the message is held in memory.
        inbound.setsockopt(zmq.MAXMSGSIZE, self._config.max_attachment_bytes + 1024 * 1024)
        if self._anonymous is not None:
            self._zap = ZapHandler(context, self._anonymous)
            for socket in (inbound, outbound):
                ZapHandler.protect(socket)
        try:
            self.publish_port = _bind(inbound, self._config.host, self._config.publish_port)
            self.subscribe_port = _bind(outbound, self._config.host, self._config.subscribe_port)
        except zmq.ZMQError as exc:
            inbound.close()
            outbound.close()
            if self._zap is not None:
                await self._zap.stop()
                self._zap = None
            context.term()
            reason = f"cannot listen on {self._config.host}: {exc}"
            self.status = {"state": "error", "reason": reason}
            log.warning("ZeroMQ hub off: %s", reason)
            return
        self._context, self._inbound, self._outbound = context, inbound, outbound
        self._task = asyncio.create_task(self._receive(), name="zmq-hub")
        self._watcher = asyncio.create_task(self._watch_subscribers(), name="zmq-hub-subs")
        self.status = {
            "state": "listening",
            "publish": f"tcp://{self._config.host}:{self.publish_port}",
            "subscribe": f"tcp://{self._config.host}:{self.subscribe_port}",
        }
        log.info(
            "ZeroMQ hub: publish into %s, subscribe from %s",
            self.status["publish"],
            self.status["subscribe"],
        )

    @property
    def refused_peers(self) -> int:
        """Connections the ZAP handler refused (``bus_anonymous_role``/``_networks``)."""
        return self._zap.refused if self._zap is not None else 0

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        for task in (self._task, self._watcher):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._task = self._watcher = None
        self._wanted.clear()
        for socket in (self._inbound, self._outbound):
            if socket is not None:
                socket.close()
        if self._zap is not None:
            await self._zap.stop()
            self._zap = None
        if self._context is not None:
            self._context.term()
        self._context = self._inbound = self._outbound = None
        self.status = {"state": "stopped"}

    # --- bus -> clients -----------------------------------------------------------------

    @property
    def forwarding(self) -> bool:
        """Whether the hub hears the bus now (some ZeroMQ client is subscribed)."""
        return self._subscription is not None

    async def _watch_subscribers(self) -> None:
        outbound = self._outbound
        assert outbound is not None
        while True:
            event = await outbound.recv()
            if not event or event[0] not in (0, 1):
                continue
            if event[0] == 1:
                self._wanted.add(event[1:])
            else:
                self._wanted.discard(event[1:])
            if self._wanted and self._subscription is None:
                self._subscription = self._bus.subscribe(TopicFilter(), self._forward)
            elif not self._wanted and self._subscription is not None:
                self._subscription.unsubscribe()
                self._subscription = None

    def _forward(self, envelope: Envelope) -> None:
        outbound = self._outbound
        if outbound is None:
            return
        try:
            outbound.send_multipart(envelope.encode(), flags=zmq.NOBLOCK)
        except zmq.Again:
            # PUB never blocks; Again only when the socket is shutting down.
            return

    # --- clients -> bus -----------------------------------------------------------------

    async def _receive(self) -> None:
        inbound = self._inbound
        assert inbound is not None
        while True:
            frames = await inbound.recv_multipart()
            try:
                envelope = self._decode(frames)
            except MessageError as exc:
                self.rejected += 1
                await self._reject(frames, str(exc))
                continue
            try:
                await self._bus.publish(envelope)
            except Exception as exc:  # the bus may be reconnecting; tell the client
                log.warning("ZeroMQ hub could not publish %s: %s", envelope.topic, exc)
                await self._reject(frames, f"the bus did not take the message: {exc}")

    def _decode(self, frames: list[bytes]) -> Envelope:
        if len(frames) == 3 and len(frames[2]) > self._config.max_attachment_bytes:
            raise MessageError(
                f"attachment of {len(frames[2])} bytes is over the limit of "
                f"{self._config.max_attachment_bytes}"
            )
        envelope = Envelope.decode(frames)
        topic = envelope.topic
        local = resolve_local(topic.target, self.service.rpartition("-")[0])
        if local != topic.target:
            topic = replace(topic, target=local)
            envelope = Envelope(topic, envelope.message, envelope.attachment)
        self._authorise(topic)
        if (
            self._is_known is not None
            and topic.type in ADDRESSED
            and topic.target != BROADCAST
            and not self._is_known(topic.target)
        ):
            raise MessageError(f"unknown Target {topic.target!r}: no such service on the network")
        return envelope

    def _authorise(self, topic: Topic) -> None:
        """The peers' principal may read (Get, Identify) or also write the bus."""
        access = self._anonymous
        if access is None:
            return
        if not access.enabled:
            raise MessageError("the hub answers no one: bus_anonymous_role is off")
        operation = "read" if topic.type in READING else "write"
        permissions = access.permissions_of(Role(access.role))
        if not permissions.allows(DEFAULT_ACCOUNT, f"network:bus:{operation}"):
            raise MessageError(
                f"the hub's peers act as {access.role} (bus_anonymous_role), which may not "
                f"publish a {topic.type.value}: that needs network:bus:{operation}"
            )

    async def _reject(self, frames: list[bytes], reason: str) -> None:
        log.info("ZeroMQ hub rejected a message: %s", reason)
        target = _sender_of(frames)
        notice = Envelope(
            Topic(MessageType.LOG, target=target, source=self.service, name="Error"),
            Message(value={"level": "error", "message": reason}),
        )
        await self._bus.publish(notice)


def _bind(socket: zmq.asyncio.Socket, host: str, port: int) -> int:
    if port == 0:
        return int(socket.bind_to_random_port(f"tcp://{host}"))
    socket.bind(f"tcp://{host}:{port}")
    return port


def _sender_of(frames: list[bytes]) -> str:
    """The Source (or RespondTo) of a rejected message when its topic is readable JSON."""
    with contextlib.suppress(Exception):
        topic = strict_json.loads(frames[0])
        if isinstance(topic, dict):
            for key in ("RespondTo", "Source"):
                value = topic.get(key)
                if isinstance(value, str) and value:
                    return value
    return BROADCAST
