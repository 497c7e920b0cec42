"""The NATS bus against the machine's real nats-server: two buses stand for two nodes."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import nats
import pytest

from camnet.bus.filters import TopicFilter
from camnet.bus.message import Envelope, Message, MessageType, Topic, update
from camnet.bus.nats import NatsBus, pack_frames, unpack_frames
from camnet.bus.subjects import subject_of
from tests.outside import require_nats


@pytest.fixture
async def buses() -> AsyncIterator[tuple[NatsBus, NatsBus]]:
    url = require_nats()
    node_a = NatsBus(url, f"a{secrets.token_hex(4)}")
    node_b = NatsBus(url, f"b{secrets.token_hex(4)}")
    await node_a.start()
    await node_b.start()
    yield node_a, node_b
    await node_a.stop()
    await node_b.stop()


async def _until(predicate: object, timeout: float = 3.0) -> None:
    assert callable(predicate)
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def test_frames_survive_packing() -> None:
    frames = [b'{"Type":"Get"}', b"{}", bytes(range(256))]
    assert unpack_frames(pack_frames(frames)) == frames


async def test_an_update_published_on_one_node_reaches_the_other(
    buses: tuple[NatsBus, NatsBus],
) -> None:
    node_a, node_b = buses
    device = f"{secrets.token_hex(4)}-C2"
    seen: list[Envelope] = []
    node_b.subscribe(TopicFilter(source=device, name="State.*"), seen.append)
    await node_b.flush()
    await node_a.publish(update(device, "light0", True))
    await node_a.publish(
        Envelope(Topic(MessageType.LOG, source=device, name="Notification.record"))
    )
    frame = Envelope(
        Topic(MessageType.UPDATE, source=device, name="State.frame"), Message(value=1), b"\xff\xd8"
    )
    await node_a.publish(frame)
    await _until(lambda: len(seen) == 2)
    await asyncio.sleep(0.1)
    assert [envelope.topic.name for envelope in seen] == ["State.light0", "State.frame"]
    assert seen[0].message.value is True
    assert seen[1].attachment == b"\xff\xd8"


async def test_request_reply_crosses_nodes(buses: tuple[NatsBus, NatsBus]) -> None:
    node_a, node_b = buses
    device = f"{secrets.token_hex(4)}-C2"
    replies: set[asyncio.Task[None]] = set()

    def answer(envelope: Envelope) -> None:
        reply = Envelope(
            Topic(
                MessageType.UPDATE,
                target=envelope.topic.respond_to,
                source=device,
                name=envelope.topic.name,
                id=envelope.topic.id,
            ),
            Message(value=42),
        )
        task = asyncio.ensure_future(node_a.publish(reply))
        replies.add(task)
        task.add_done_callback(replies.discard)

    node_a.subscribe(TopicFilter(type=MessageType.GET, target=device), answer)
    await node_a.flush()
    reply = await node_b.request(
        Envelope(Topic(MessageType.GET, target=device, name="State.gain")), timeout=3
    )
    assert reply.message.value == 42
    assert reply.topic.source == device
    with pytest.raises(TimeoutError):
        await node_b.request(
            Envelope(Topic(MessageType.GET, target=f"{device}x", name="State.gain")), timeout=0.3
        )


async def test_unsubscribed_handlers_hear_nothing_more(buses: tuple[NatsBus, NatsBus]) -> None:
    node_a, node_b = buses
    device = f"{secrets.token_hex(4)}-C2"
    seen: list[Envelope] = []
    subscription = node_b.subscribe(TopicFilter(source=device), seen.append)
    await node_b.flush()
    await node_a.publish(update(device, "light0", True))
    await _until(lambda: len(seen) == 1)
    subscription.unsubscribe()
    await node_b.flush()
    await node_a.publish(update(device, "light0", False))
    await node_a.flush()
    await asyncio.sleep(0.2)
    assert len(seen) == 1


async def test_garbage_on_a_subject_is_dropped_and_the_bus_keeps_working(
    buses: tuple[NatsBus, NatsBus], caplog: pytest.LogCaptureFixture
) -> None:
    node_a, node_b = buses
    device = f"{secrets.token_hex(4)}-C2"
    seen: list[Envelope] = []
    node_b.subscribe(TopicFilter(source=device), seen.append)
    await node_b.flush()
    outsider = await nats.connect(require_nats())
    try:
        subject = subject_of(update(device, "light0", True).topic)
        await outsider.publish(subject, b"not frames")
        await outsider.publish(subject, pack_frames([b"{not json", b"{}"]))
        await outsider.flush()
    finally:
        await outsider.close()
    await node_a.publish(update(device, "light0", True))
    await _until(lambda: len(seen) == 1)
    assert "not an envelope" in caplog.text
