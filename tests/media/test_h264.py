"""The shared H.264 encoder against a real hub with a fake camera: one start for many
subscribers, a stop with the last one, and the end of the stream reaching every
subscriber even when the hub stopped while the encoder was busy encoding."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from camnet.media.h264 import AccessUnit, EncoderPool, H264Encoder
from camnet.media.hub import EncodedFrame
from tests.media.test_hub import FakeProducer, started


async def next_unit(queue: asyncio.Queue[AccessUnit | None]) -> AccessUnit | None:
    return await asyncio.wait_for(queue.get(), 20)


async def test_one_encoder_per_hub_started_once() -> None:
    hub = await started(FakeProducer())
    pool = EncoderPool()
    encoder = pool.encoder(hub)
    assert pool.encoder(hub) is encoder
    first, second = encoder.subscribe(), encoder.subscribe()
    for subscriber in (first, second):
        unit = await next_unit(subscriber.queue)
        assert unit is not None
        assert unit.keyframe
        assert unit.init_segment is not None
    assert encoder.counters.starts == 1
    encoder.unsubscribe(first)
    assert encoder.running
    encoder.unsubscribe(second)
    assert not encoder.running
    await pool.stop()
    await hub.stop()


async def test_the_end_reaches_a_subscriber_while_the_encoder_is_busy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deactivating a stream stops and restarts its hub; an encoder busy in its worker
    thread at that moment got no ``HubStopped`` and used to wait on the restarted hub
    for ever (seen as a flaky socket that never closed)."""
    hub = await started(FakeProducer())
    encoder = H264Encoder("test", hub)
    busy, release = threading.Event(), threading.Event()
    real = H264Encoder._encode

    def slow(self: H264Encoder, state: dict[str, Any], frame: EncodedFrame, force: bool) -> Any:
        if state["index"] >= 1:
            busy.set()
            release.wait(10)
        return real(self, state, frame, force)

    monkeypatch.setattr(H264Encoder, "_encode", slow)
    subscriber = encoder.subscribe()
    assert await next_unit(subscriber.queue) is not None
    await asyncio.to_thread(busy.wait, 10)
    await hub.stop()
    await hub.start()
    release.set()
    while await next_unit(subscriber.queue) is not None:
        pass  # the picture being encoded may still arrive; then the end
    assert not encoder.running
    await hub.stop()
