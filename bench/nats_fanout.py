"""Updates fanned out to 100 subscribers over NATS, with the in-process bus as reference.

One publisher sends ``--updates`` BROADCAST ``Update`` messages; each of ``--subscribers``
subscribers (over NATS: one connection each, as separate services would be) counts what
it receives. The clock runs from the first publish until every subscriber has every
Update. Figures: messages received per second in total and per subscriber.

    .venv/bin/python bench/nats_fanout.py [--subscribers 100] [--updates 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Sequence

from camnet.bus.base import Bus
from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.bus.nats import NatsBus

NAME = "State.brightness"


async def fan_out(publisher: Bus, listeners: Sequence[Bus], updates: int) -> dict[str, float]:
    counts = [0] * len(listeners)
    done = asyncio.Event()
    finished = 0

    def counter(index: int) -> None:
        def on_update(_envelope: Envelope) -> None:
            nonlocal finished
            counts[index] += 1
            if counts[index] == updates:
                finished += 1
                if finished == len(listeners):
                    done.set()

        listeners[index].subscribe(TopicFilter(type=MessageType.UPDATE, name=NAME), on_update)

    for index in range(len(listeners)):
        counter(index)
    for bus in listeners:
        if isinstance(bus, NatsBus):
            await bus.flush()
    started = time.perf_counter()
    for n in range(updates):
        await publisher.publish(
            Envelope(Topic(MessageType.UPDATE, source="bench-C2", name=NAME), Message(value=n))
        )
    await asyncio.wait_for(done.wait(), 300)
    seconds = time.perf_counter() - started
    total = updates * len(listeners)
    return {
        "seconds": round(seconds, 3),
        "received_per_s": round(total / seconds),
        "per_subscriber_per_s": round(updates / seconds),
    }


async def main(subscribers: int, updates: int, nats_url: str) -> None:
    local = LocalBus("bench")
    await local.start()
    local_figures = await fan_out(local, [local] * subscribers, updates)
    await local.stop()
    print(f"local bus: {local_figures}", flush=True)
    publisher = NatsBus(nats_url, "benchpub")
    listeners = [NatsBus(nats_url, f"benchsub{i}") for i in range(subscribers)]
    await publisher.start()
    for bus in listeners:
        await bus.start()
    nats_figures = await fan_out(publisher, listeners, updates)
    for bus in [publisher, *listeners]:
        await bus.stop()
    print(f"NATS: {nats_figures}", flush=True)
    result = {
        "bench": "nats_fanout",
        "subscribers": subscribers,
        "updates": updates,
        "local": local_figures,
        "nats": nats_figures,
        "nats_vs_local_rate": round(
            nats_figures["received_per_s"] / local_figures["received_per_s"], 3
        ),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=100)
    parser.add_argument("--updates", type=int, default=2000)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    asyncio.run(main(args.subscribers, args.updates, args.nats))
