"""The ZeroMQ hub: outside programs join the bus the way the network seed's clients do.

Clients publish multipart messages ``[Topic JSON, Message JSON, Attachment?]`` into the
hub's *publish* port (16202 by default, a SUB socket here) and subscribe from its
*subscribe* port (16201, a PUB socket here; ZeroMQ filters by the prefix of the first
frame, the topic JSON). Everything a client publishes goes onto camnet's bus, and
everything on the bus comes out of the subscribe port, so a client hears every service
and every other client, as the seed says: "any message that is sent to the network can be
listened to and acted on from any service".

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
from dataclasses import dataclass
from typing import Final

import zmq
import zmq.asyncio

from camnet import strict_json
from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, Message, MessageError, MessageType, Topic

log = logging.getLogger(__name__)

ADDRESSED: Final = frozenset(
    {MessageType.GET, MessageType.SET, MessageType.RESET, MessageType.CALL}
)
"""Types that only make sense for an existing service: refused when the Target is unknown."""


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
    ) -> None:
        self._bus = bus
        self._is_known = is_known
        self.service = service
        self._config = config
        self._context: zmq.asyncio.Context | None = None
        self._inbound: zmq.asyncio.Socket | None = None
        self._outbound: zmq.asyncio.Socket | None = None
        self._task: asyncio.Task[None] | None = None
        self._subscription: Subscription | None = None
        self.publish_port = 0
        self.subscribe_port = 0
        self.status: dict[str, object] = {"state": "stopped"}
        self.rejected = 0

    async def start(self) -> None:
        context = zmq.asyncio.Context()
        inbound = context.socket(zmq.SUB)
        outbound = context.socket(zmq.PUB)
        for socket in (inbound, outbound):
            socket.setsockopt(zmq.LINGER, 0)
        inbound.setsockopt(zmq.SUBSCRIBE, b"")
        # A hard cap far above the attachment limit: ZeroMQ drops such a peer outright,
        # before the message is held in memory.
        inbound.setsockopt(zmq.MAXMSGSIZE, self._config.max_attachment_bytes + 1024 * 1024)
        try:
            self.publish_port = _bind(inbound, self._config.host, self._config.publish_port)
            self.subscribe_port = _bind(outbound, self._config.host, self._config.subscribe_port)
        except zmq.ZMQError as exc:
            inbound.close()
            outbound.close()
            context.term()
            reason = f"cannot listen on {self._config.host}: {exc}"
            self.status = {"state": "error", "reason": reason}
            log.warning("ZeroMQ hub off: %s", reason)
            return
        self._context, self._inbound, self._outbound = context, inbound, outbound
        self._subscription = self._bus.subscribe(TopicFilter(), self._forward)
        self._task = asyncio.create_task(self._receive(), name="zmq-hub")
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

    async def stop(self) -> None:
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for socket in (self._inbound, self._outbound):
            if socket is not None:
                socket.close()
        if self._context is not None:
            self._context.term()
        self._context = self._inbound = self._outbound = None
        self.status = {"state": "stopped"}

    # --- bus -> clients -----------------------------------------------------------------

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
        if (
            self._is_known is not None
            and topic.type in ADDRESSED
            and topic.target != BROADCAST
            and not self._is_known(topic.target)
        ):
            raise MessageError(f"unknown Target {topic.target!r}: no such service on the network")
        return envelope

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
