"""State fan-out: one message per client per change batch, merging for slow clients."""

from __future__ import annotations

import asyncio
import json

from camnet.bus.local import LocalBus
from camnet.bus.message import update
from camnet.faces.c2.fanout import CHUNK, StateClient, StateFanout
from camnet.identity.permissions import ALL, VariableGrant


class FakeSocket:
    """A client connection that can be made to stall."""

    def __init__(self) -> None:
        self.sent: list[dict[str, object]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, text: str) -> None:
        await self.gate.wait()
        self.sent.append(json.loads(text))


async def test_changes_of_one_turn_arrive_as_one_message() -> None:
    bus = LocalBus()
    fanout = StateFanout(bus, "m-C2")
    fanout.start()
    socket = FakeSocket()
    fanout.join(StateClient(socket.send, ALL), {"light0": False})
    bus.publish_nowait(update("m-C2", "light0", True))
    bus.publish_nowait(update("m-C2", "gain", 3))
    bus.publish_nowait(update("m-Other", "gain", 9))
    await asyncio.sleep(0)
    assert socket.sent == [{"light0": False}, {"light0": True, "gain": 3}]
    fanout.stop()


async def test_a_stalled_client_gets_the_newest_values_merged_and_others_go_on() -> None:
    bus = LocalBus()
    fanout = StateFanout(bus, "m-C2")
    fanout.start()
    stalled, live = FakeSocket(), FakeSocket()
    fanout.join(StateClient(stalled.send, ALL), {})
    fanout.join(StateClient(live.send, ALL), {})
    stalled.gate.clear()
    for value in range(100):
        bus.publish_nowait(update("m-C2", "gain", value))
        bus.publish_nowait(update("m-C2", f"v{value % 3}", value))
        await asyncio.sleep(0)
    assert len(live.sent) == 101
    assert stalled.sent == [{}]  # the initial state went out before the stall
    stalled.gate.set()
    await asyncio.sleep(0.01)
    assert stalled.sent[-1] == {"gain": 99, "v0": 99, "v1": 97, "v2": 98}
    assert len(stalled.sent) == 3  # {}, the first change in flight, then one merge
    fanout.stop()


async def test_clients_see_only_what_they_may_read() -> None:
    bus = LocalBus()
    fanout = StateFanout(bus, "m-C2")
    fanout.start()
    narrow = FakeSocket()
    fanout.join(StateClient(narrow.send, VariableGrant(frozenset({"light0"}), None)), {})
    bus.publish_nowait(update("m-C2", "hostname", "secret-host"))
    bus.publish_nowait(update("m-C2", "light0", True))
    await asyncio.sleep(0)
    bus.publish_nowait(update("m-C2", "hostname", "other"))
    await asyncio.sleep(0)
    assert narrow.sent == [{}, {"light0": True}]
    assert fanout.client_count == 1
    fanout.stop()
    assert fanout.client_count == 0


async def test_a_push_drains_in_chunks_and_a_later_change_merges_into_waiting_clients() -> None:
    bus = LocalBus()
    fanout = StateFanout(bus, "m-C2")
    fanout.start()
    sockets = [FakeSocket() for _ in range(3 * CHUNK)]
    for socket in sockets:
        fanout.join(StateClient(socket.send, ALL), {})
    bus.publish_nowait(update("m-C2", "seconds", 1))
    await asyncio.sleep(0)  # the flush runs and drains the first chunk only
    assert sum(len(s.sent) == 2 for s in sockets) == CHUNK
    # The second chunk's turn is already queued; the change below is flushed after it,
    # while the third chunk is still waiting.
    bus.publish_nowait(update("m-C2", "light0", True))
    for _ in range(10):
        await asyncio.sleep(0)
    separate = [s for s in sockets if s.sent == [{}, {"seconds": 1}, {"light0": True}]]
    merged = [s for s in sockets if s.sent == [{}, {"seconds": 1, "light0": True}]]
    assert len(separate) == 2 * CHUNK
    assert len(merged) == CHUNK
    assert all(s.sent[-1].get("light0") is True for s in sockets)
    fanout.stop()
