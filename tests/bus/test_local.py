"""The in-process bus: publish, wildcard subscribe, request/reply."""

from __future__ import annotations

import asyncio

import pytest

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic, update


async def test_subscribers_receive_matching_envelopes_until_they_unsubscribe() -> None:
    bus = LocalBus()
    seen: list[Envelope] = []
    subscription = bus.subscribe(TopicFilter(name="State.*"), seen.append)
    await bus.publish(update("m-C2", "light0", True))
    await bus.publish(Envelope(Topic(MessageType.LOG, name="Notification.record")))
    subscription.unsubscribe()
    await bus.publish(update("m-C2", "light0", False))
    assert [e.message.value for e in seen] == [True]


async def test_a_failing_subscriber_does_not_stop_the_others(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = LocalBus()
    seen: list[Envelope] = []

    def broken(_envelope: Envelope) -> None:
        raise RuntimeError("boom")

    bus.subscribe(TopicFilter(), broken)
    bus.subscribe(TopicFilter(), seen.append)
    await bus.publish(update("m-C2", "light0", True))
    assert len(seen) == 1
    assert "boom" in caplog.text


async def test_request_reply() -> None:
    bus = LocalBus("m")

    def responder(envelope: Envelope) -> None:
        reply = Envelope(
            Topic(
                MessageType.UPDATE,
                target=envelope.topic.respond_to,
                source="m-C2",
                name=envelope.topic.name,
                id=envelope.topic.id,
            ),
            Message(value=42),
        )
        asyncio.get_running_loop().call_soon(bus.publish_nowait, reply)

    bus.subscribe(TopicFilter(type=MessageType.GET, target="m-C2"), responder)
    reply = await bus.request(Envelope(Topic(MessageType.GET, target="m-C2", name="State.gain")))
    assert reply.message.value == 42
    with pytest.raises(TimeoutError):
        await bus.request(Envelope(Topic(MessageType.GET, target="m-Nobody")), timeout=0.05)
