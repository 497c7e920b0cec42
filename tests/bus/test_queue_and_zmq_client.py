"""Queue groups on the local bus, and the ZeroMQ client bus when no hub answers."""

from __future__ import annotations

import asyncio
import socket

import pytest

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, MessageType, Topic
from camnet.bus.zmq_client import ZmqBus


def test_a_queue_group_gets_each_envelope_once_and_plain_subscribers_all() -> None:
    async def scenario() -> None:
        bus = LocalBus("m")
        grouped: list[str] = []
        plain: list[str] = []
        wanted = TopicFilter(target="Store")
        first = bus.subscribe_queue(wanted, "g", lambda e: grouped.append("first"))
        bus.subscribe_queue(wanted, "g", lambda e: grouped.append("second"))
        bus.subscribe(wanted, lambda e: plain.append("plain"))
        await bus.publish(Envelope(Topic(MessageType.GET, target="Store")))
        assert (grouped, plain) == (["first"], ["plain"])
        first.unsubscribe()  # the group's next member takes over
        await bus.publish(Envelope(Topic(MessageType.GET, target="Store")))
        assert grouped == ["first", "second"]

    asyncio.run(scenario())


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_zmq_client_says_so_when_no_hub_answers() -> None:
    async def scenario() -> None:
        bus = ZmqBus(
            f"tcp://127.0.0.1:{_free_port()}",
            f"tcp://127.0.0.1:{_free_port()}",
            "lonely",
            connect_timeout=0.3,
        )
        with pytest.raises(ConnectionError, match="no ZeroMQ hub answered"):
            await bus.start()

    asyncio.run(scenario())
