"""The hub with a fake producer: start with the first consumer, stop with the last,
newest frame for everyone, configuration generations."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from camnet.devices.sources.base import Image
from camnet.media.config import StreamConfig
from camnet.media.hub import HubStopped, StreamHub


class FakeProducer:
    """Grey pictures whose level is the frame count; optionally silent (no signal)."""

    def __init__(self) -> None:
        self.frames = 0
        self.silent = False
        self.running = 0
        self.lock = threading.Lock()

    def start(self) -> None:
        with self.lock:
            self.running += 1

    def stop(self) -> None:
        with self.lock:
            self.running -= 1

    def compose(self, config: StreamConfig, moment: float, epoch: float) -> Image | None:
        if self.silent:
            return None
        self.frames += 1
        return np.full((config.height, config.width, 3), self.frames % 256, dtype=np.uint8)


CONFIG = StreamConfig(width=64, height=48, fps=60)


async def started(producer: FakeProducer) -> StreamHub:
    hub = StreamHub("test", producer, CONFIG)
    await hub.start()
    return hub


async def test_capture_runs_only_while_consumed() -> None:
    producer = FakeProducer()
    hub = await started(producer)
    await asyncio.sleep(0.1)
    assert producer.frames == 0
    assert not hub.status()["running"]
    frame = await hub.snapshot()
    assert frame.jpeg.startswith(b"\xff\xd8")
    assert frame.signal
    await asyncio.sleep(0.2)
    assert producer.running == 0
    assert not hub.status()["running"]
    count = producer.frames
    await asyncio.sleep(0.2)
    assert producer.frames == count
    await hub.stop()


async def test_a_stalled_consumer_does_not_hold_the_others() -> None:
    producer = FakeProducer()
    hub = await started(producer)
    async with hub.consuming(), hub.consuming():  # the second one never reads
        sequence, seen = -1, []
        for _ in range(10):
            frame = await hub.newer_than(sequence)
            seen.append(frame.sequence)
            sequence = frame.sequence
    assert seen == sorted(set(seen))
    assert hub.counters.encoded == hub.counters.captured
    await hub.stop()


async def test_a_slow_consumer_skips_to_the_newest_frame() -> None:
    producer = FakeProducer()
    hub = await started(producer)
    async with hub.consuming():
        first = await hub.newer_than(-1)
        await asyncio.sleep(0.2)  # about 12 frames at 60 fps
        second = await hub.newer_than(first.sequence)
    assert second.sequence > first.sequence + 3
    await hub.stop()


async def test_snapshot_reflects_the_latest_configuration() -> None:
    hub = await started(FakeProducer())
    async with hub.consuming():
        await hub.newer_than(-1)
        hub.configure(StreamConfig(width=32, height=24, fps=60, quality=50))
        frame = await hub.snapshot()
    assert frame.generation == hub.generation == 1
    await hub.stop()


async def test_no_signal_card_is_encoded_once_and_repeated() -> None:
    producer = FakeProducer()
    producer.silent = True
    hub = await started(producer)
    async with hub.consuming():
        frame = await hub.newer_than(-1)
    assert not frame.signal
    assert hub.counters.captured == 0
    assert hub.counters.encoded == 1
    await hub.stop()


async def test_waiting_consumers_are_released_when_the_hub_stops() -> None:
    producer = FakeProducer()
    producer.silent = True
    hub = await started(producer)
    hub.acquire()
    first = await hub.newer_than(-1)
    waiting = asyncio.ensure_future(hub.newer_than(first.sequence))
    await asyncio.sleep(0.05)
    await hub.stop()
    with pytest.raises(HubStopped):
        await waiting
