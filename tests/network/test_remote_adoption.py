"""A remote device whose adoption failed on this node is adopted again (issue 19).

When several nodes list a new device at once, a listener (the fleet registry's write)
may fail on one of them; that node must not keep the device unlisted until it restarts:
the listeners hear of the device again at its next ``Self``, until they succeed.
"""

from __future__ import annotations

import asyncio

from camnet.bus.local import LocalBus
from camnet.clock import ManualClock
from camnet.network.presence import LocalService, self_message
from camnet.network.profiles import c2_profile
from camnet.network.remote import RemoteDevice
from camnet.network.remote_nodes import RemoteNodes


async def test_a_failed_listener_hears_of_the_device_again_at_its_next_self() -> None:
    bus = LocalBus("b")
    clock = ManualClock()
    nodes = RemoteNodes(bus, "b", clock, timeout=0.05)
    calls: list[str] = []
    heard = asyncio.Queue[str]()

    async def flaky(device: RemoteDevice) -> None:
        calls.append(device.name)
        heard.put_nowait(device.name)
        if len(calls) == 1:
            raise RuntimeError("duplicate key, as when another node inserted the row first")

    nodes.listeners.append(flaky)
    await nodes.start()
    heartbeat = self_message(LocalService("a-C2", "device"), "a", 1.0, details=c2_profile())
    try:
        await bus.publish(heartbeat)
        # The failure is recorded in the same step as the call (no await in between).
        assert await asyncio.wait_for(heard.get(), 5) == "a-C2"
        clock.advance(1.0)
        await bus.publish(heartbeat)
        assert await asyncio.wait_for(heard.get(), 5) == "a-C2"
        clock.advance(1.0)
        await bus.publish(heartbeat)  # told once more only while a listener fails
        await asyncio.sleep(0.2)
        assert calls == ["a-C2", "a-C2"]
    finally:
        await nodes.stop()
