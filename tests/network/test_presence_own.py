"""A node's own services are online in its own directory whatever the bus does (issue 19,
item 4): during a NATS outage the node hears none of its own heartbeats, yet its devices
are there and working, so its ``/services`` must not show them offline."""

from __future__ import annotations

from camnet.bus.local import LocalBus
from camnet.clock import ManualClock
from camnet.network.presence import LocalService, Presence


class DeafBus(LocalBus):
    """A bus that delivers nothing, as NATS while it is away."""

    async def publish(self, envelope: object) -> None:
        return None


async def test_own_services_stay_online_when_no_heartbeat_is_heard() -> None:
    clock = ManualClock()
    local = [LocalService("m-C2", "device"), LocalService("m-Hub", "hub")]
    presence = Presence(DeafBus("m"), "m", clock, lambda: local, interval=1.0)
    await presence.start()
    try:
        clock.advance(60)  # sixty missed heartbeats
        assert presence.is_online("m-C2")
        assert [(i.name, i.online(presence.now())) for i in presence.services()] == [
            ("m-C2", True),
            ("m-Hub", True),
        ]
        info = presence.info("m-Hub")
        assert info is not None
        assert info.kind == "hub"
        assert info.machine == "m"
    finally:
        await presence.stop()
