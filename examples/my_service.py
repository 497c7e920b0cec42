"""Your own service on the camnet network: a greeter with persisted data and a function.

Run it next to a node, either through the node's ZeroMQ hub (as a vendor user would)::

    python examples/my_service.py --hub 127.0.0.1            # ports 16202 / 16201

(the hub takes no credentials, so the node must admit its peers:
``CAMNET_BUS_ANONYMOUS_ROLE=operator camnet serve``; see docs/network.md)

or straight on the network's NATS server::

    python examples/my_service.py --bus nats://127.0.0.1:4222

It joins as ``<machine>-Greeter`` and offers:

- data ``State.greeting`` (text, persisted by the Store) and ``State.greeted`` (a count,
  persisted), readable with Get and writable with Set;
- the function ``greet`` (Params ``{"name": …}``), whose CallResult is the greeting.

Then, from anywhere on the network (here the Gateway of the node)::

    curl -s -u admin:PASSWORD \\
      "http://127.0.0.1:8080/gateway/24.1.0/publish?Type=Call&Target=mypc-Greeter&Method=greet&Paramname=Ada"

Stop it and start it again: ``greeting`` and ``greeted`` come back from the Store.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket

from camnet.bus.base import Bus
from camnet.bus.nats import NatsBus
from camnet.bus.zmq_client import ZmqBus
from camnet.network import Service


def greeter(machine: str) -> Service:
    service = Service("Greeter", machine=machine)
    service.data("greeting", "Hello", persisted=True, description="how to greet")
    service.data("greeted", 0, minimum=0, maximum=2**31, persisted=True, description="count")

    @service.function
    async def greet(name: str) -> str:
        """Greet someone by name; counts the greetings."""
        count = await service.set("greeted", service["greeted"] + 1)
        return f"{service['greeting']}, {name}! (greeting number {count})"

    return service


def bus_of(args: argparse.Namespace, client_name: str) -> Bus:
    if args.bus:
        return NatsBus(args.bus, client_name)
    return ZmqBus.for_hub(args.hub, args.publish_port, args.subscribe_port, client_name)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--bus", help="a NATS URL such as nats://127.0.0.1:4222")
    where.add_argument("--hub", help="host of a node's ZeroMQ hub, such as 127.0.0.1")
    parser.add_argument("--publish-port", type=int, default=16202)
    parser.add_argument("--subscribe-port", type=int, default=16201)
    parser.add_argument("--machine", default=socket.gethostname().split(".")[0])
    args = parser.parse_args()
    service = greeter(args.machine)
    bus = bus_of(args, service.name)
    await bus.start()
    try:
        await service.start(bus)
        print(f"{service.name} ready: greeting={service['greeting']!r}", flush=True)
        await asyncio.Event().wait()
    finally:
        await service.stop()
        await bus.stop()


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
