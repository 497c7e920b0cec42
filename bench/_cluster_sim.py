"""Simulated camnet nodes for ``cluster_scale.py``: light, but on the wire like real ones.

Each simulated node has its own NATS connection (camnet's own ``NatsBus``) and sends what
an idle real node sends (measured on one real node, ``simulation_interval`` 1 s): a full
``Self`` per service when it starts and whenever asked (``Identify``), a heartbeat every
``--interval`` seconds, and its control unit's readings (``--rate`` Updates a second).
Its four stereo cameras send no Updates when idle, as real ones. It answers the
``Execute`` calls other nodes send to ``MachineName-Devices`` (their first read of each
device) from a state of defaults. ``--legacy`` sends the heartbeat the way camnet did
before issue 19 (one ``Self`` per service per interval), for the "before" figures.

    python bench/_cluster_sim.py --url nats://… --network NAME --nodes 50 [--legacy]

Prints ``ready N`` once every node has announced itself, then runs until stdin closes.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
from typing import Any

from camnet.bus.filters import TopicFilter
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic, service_name
from camnet.bus.nats import NatsBus
from camnet.devices.profiles.c2 import c2_schema
from camnet.devices.profiles.stereo import OAK_D_LIKE, stereo_schema
from camnet.network.operations import EXECUTE
from camnet.network.presence import HEARTBEAT, NODE_KIND, LocalService, self_message
from camnet.network.profiles import c2_profile, stereo_profile
from camnet.state.schema import JsonValue, Schema

READINGS = ("rpm0", "RPM0", "oct0", "psi0", "fpgaTemp", "rpm1", "RPM1", "oct1", "psi1", "downstat")


class SimNode:
    def __init__(self, url: str, network: str, machine: str, cameras: int, interval: float):
        self.machine = machine
        self.interval = interval
        self.bus = NatsBus(url, machine, network=network)
        self.c2 = service_name(machine, "C2")
        self.services: list[tuple[LocalService, dict[str, Any]]] = [
            (LocalService(self.c2, "device"), c2_profile())
        ]
        self.schemas: dict[str, Schema] = {self.c2: c2_schema()}
        for index in range(cameras):
            mxid = f"{machine.upper()}X{index}"
            name = service_name(machine, f"Stereo{mxid}")
            self.services.append((LocalService(name, "device"), stereo_profile(mxid, OAK_D_LIKE)))
            self.schemas[name] = stereo_schema(OAK_D_LIKE)
        for kind, service in (("gateway", "Gateway"), ("hub", "Hub"), ("devices", "Devices")):
            self.services.append((LocalService(service_name(machine, service), kind), {}))
        self.states: dict[str, dict[str, JsonValue]] = {
            name: schema.defaults() for name, schema in self.schemas.items()
        }
        self.readings = [n for n in READINGS if n in self.schemas[self.c2]]
        self._tasks: set[asyncio.Future[None]] = set()

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self) -> None:
        await self.bus.start()
        self.bus.subscribe(TopicFilter(type=MessageType.IDENTIFY), self._on_identify)
        self.bus.subscribe(
            TopicFilter(type=MessageType.CALL, target=service_name(self.machine, "Devices")),
            self._on_call,
        )
        await self.announce(BROADCAST, "")

    async def announce(self, target: str, id: str, only: str = "") -> None:
        for service, details in self.services:
            if not only or service.name == only:
                await self.bus.publish(
                    self_message(service, self.machine, self.interval, target, id, details)
                )

    async def heartbeat(self, legacy: bool) -> None:
        if legacy:
            await self.announce(BROADCAST, "")
            return
        value = {
            "Machine": self.machine,
            "Kind": NODE_KIND,
            "Interval": self.interval,
            "Services": {service.name: service.kind for service, _ in self.services},
        }
        await self.bus.publish(
            Envelope(
                Topic(MessageType.SELF, source=f"{self.machine}-Presence", name=HEARTBEAT),
                Message(value=value),
            )
        )

    async def reading(self, name: str) -> None:
        value = round(random.uniform(20, 80), 2)
        self.states[self.c2][name] = value
        await self.bus.publish(
            Envelope(
                Topic(MessageType.UPDATE, source=self.c2, name=f"State.{name}"),
                Message(value=value),
            )
        )

    def _on_identify(self, envelope: Envelope) -> None:
        target = envelope.topic.target
        if (
            target != BROADCAST
            and target not in self.states
            and not target.startswith(self.machine + "-")
        ):
            return
        reply_to = envelope.topic.respond_to or envelope.topic.source or BROADCAST
        only = "" if target == BROADCAST else target
        self._spawn(self.announce(reply_to, envelope.topic.id, only))

    def _on_call(self, envelope: Envelope) -> None:
        params: Any = envelope.message.to_json().get("Params")
        device = params.get("Device") if isinstance(params, dict) else None
        state = self.states.get(device) if isinstance(device, str) else None
        if envelope.topic.method != EXECUTE or state is None:
            return
        values: dict[str, JsonValue] = {}
        for operation in params.get("Operations", []):
            if "Read" in operation:
                values.update({n: state[n] for n in operation["Read"] if n in state})
            elif "Write" in operation:
                state[operation["Write"]["Name"]] = operation["Write"]["Value"]
                values[operation["Write"]["Name"]] = operation["Write"]["Value"]
        reply = Envelope(
            Topic(
                MessageType.CALL_RESULT,
                target=envelope.topic.respond_to or envelope.topic.source,
                source=service_name(self.machine, "Devices"),
                name=envelope.topic.name,
                method=EXECUTE,
                id=envelope.topic.id,
                executed_on=str(device),
            ),
            Message(result={"Values": values}),
        )
        self._spawn(self.bus.publish(reply))


async def run(args: argparse.Namespace) -> None:
    nodes = [
        SimNode(args.url, args.network, f"sim{index:03d}", args.cameras, args.interval)
        for index in range(args.nodes)
    ]
    for node in nodes:
        await node.start()
    print(f"ready {len(nodes)}", flush=True)

    async def beats() -> None:
        while True:
            await asyncio.sleep(args.interval)
            for node in nodes:
                await node.heartbeat(args.legacy)

    async def readings() -> None:
        # Every node sends ``rate`` readings a second, spread over the second.
        pairs = [(node, name) for node in nodes for name in node.readings[: args.rate]]
        random.shuffle(pairs)
        gap = 1.0 / max(1, len(pairs))
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        for node, name in itertools.cycle(pairs):
            await node.reading(name)
            next_at += gap
            delay = next_at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)

    tasks = [asyncio.create_task(beats()), asyncio.create_task(readings())]
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    for task in tasks:
        task.cancel()
    for node in nodes:
        await node.bus.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--network", required=True)
    parser.add_argument("--nodes", type=int, default=10)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--interval", type=float, default=2.0)
    parser.add_argument("--rate", type=int, default=10, help="readings a second per node")
    parser.add_argument("--legacy", action="store_true", help="one Self per service per beat")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
