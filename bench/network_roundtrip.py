"""Get round trip: the in-process bus (the reference) against NATS and the Gateway.

A responder service answers each ``Get`` with an ``Update`` targeted at the requester
(as the network seed says); the requester sends the next Get when the answer is in.
Same payload on both. NATS runs through the machine's ``nats-server`` with the
requester and the responder on two separate connections, as two nodes would be.

The Gateway leg starts a camnet server (its own process, local bus) and sends
``GET /gateway/{version}/publish?Type=Get&Target=<machine>-C2&Name=State.brightness``
over one keep-alive HTTP connection, one request after the other; the same server's c2
``GET /api?brightness`` over the same connection is its reference (plain HTTP and the
policy point, no bus round trip).

    .venv/bin/python bench/network_roundtrip.py [--count 2000] [--nats nats://127.0.0.1:4222]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import time

import httpx

from _harness import Camnet
from camnet.bus.base import Bus
from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import Envelope, Message, MessageType, Topic
from camnet.bus.nats import NatsBus

SERVICE = "bench-Svc"
VALUE = {"light0": True, "brightness": 3, "name": "x" * 64}


def answer(bus: Bus) -> None:
    def on_get(envelope: Envelope) -> None:
        reply = Envelope(
            Topic(
                MessageType.UPDATE,
                target=envelope.topic.respond_to,
                source=SERVICE,
                name=envelope.topic.name,
                id=envelope.topic.id,
            ),
            Message(value=VALUE),
        )
        asyncio.get_running_loop().create_task(bus.publish(reply))

    bus.subscribe(TopicFilter(type=MessageType.GET, target=SERVICE), on_get)


async def round_trips(requester: Bus, count: int) -> list[float]:
    get = Envelope(Topic(MessageType.GET, target=SERVICE, name="State"), Message())
    for _ in range(50):  # warm-up
        await requester.request(get)
    times = []
    for _ in range(count):
        started = time.perf_counter()
        reply = await requester.request(get)
        times.append(time.perf_counter() - started)
        assert reply.message.value == VALUE
    return times


def figures(times: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(times, n=100)
    return {"p50_ms": round(cuts[49] * 1000, 3), "p99_ms": round(cuts[98] * 1000, 3)}


def http_round_trips(http: httpx.Client, target: str, count: int) -> list[float]:
    """Sequential GETs of ``target`` (path and query as written) on one connection."""
    for _ in range(50):  # warm-up
        http.get(target).raise_for_status()
    times = []
    for _ in range(count):
        started = time.perf_counter()
        answer = http.get(target)
        times.append(time.perf_counter() - started)
        answer.raise_for_status()
    return times


def gateway_figures(count: int) -> tuple[dict[str, float], dict[str, float]]:
    """(Gateway Get, c2 GET) round trips against one camnet server."""
    machine = "bench"
    os.environ.update(
        {
            "CAMNET_MACHINE_NAME": machine,
            "CAMNET_ZMQ_PUBLISH_PORT": "0",
            "CAMNET_ZMQ_SUBSCRIBE_PORT": "0",
            "CAMNET_GATEWAY_PORT": "0",
        }
    )
    with Camnet() as camnet:
        assert camnet.server is not None
        assert camnet.server.env is not None
        password = camnet.server.env["CAMNET_ADMIN_PASSWORD"]
        with httpx.Client(base_url=camnet.base_url, timeout=30) as http:
            login = http.post(
                "/api/v1/auth/login", json={"email": "admin@localhost", "password": password}
            )
            login.raise_for_status()
            http.headers["Authorization"] = "Bearer " + login.json()["data"]["access_token"]
            publish = f"/gateway/24.1.0/publish?Type=Get&Target={machine}-C2&Name=State.brightness"
            reply = http.get(publish).json()
            assert reply[0]["Topic"]["Type"] == "Update", reply
            gateway = figures(http_round_trips(http, publish, count))
            c2 = figures(http_round_trips(http, "/api?get=brightness", count))
    return gateway, c2


async def main(count: int, nats_url: str) -> None:
    local = LocalBus("bench")
    await local.start()
    answer(local)
    local_figures = figures(await round_trips(local, count))
    await local.stop()
    print(f"local bus: {local_figures}", flush=True)
    responder, requester = NatsBus(nats_url, "benchA"), NatsBus(nats_url, "benchB")
    await responder.start()
    await requester.start()
    answer(responder)
    await responder.flush()
    nats_figures = figures(await round_trips(requester, count))
    await requester.stop()
    await responder.stop()
    print(f"NATS: {nats_figures}", flush=True)
    gateway, c2 = await asyncio.to_thread(gateway_figures, count)
    print(f"Gateway (HTTP, local bus inside): {gateway}", flush=True)
    print(f"c2 GET on the same server (HTTP reference): {c2}", flush=True)
    result = {
        "bench": "network_roundtrip",
        "count": count,
        "local": local_figures,
        "nats": nats_figures,
        "gateway": gateway,
        "c2_http": c2,
        "nats_vs_local_p50": round(nats_figures["p50_ms"] / local_figures["p50_ms"], 1),
        "gateway_vs_c2_p50": round(gateway["p50_ms"] / c2["p50_ms"], 2),
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--nats", default="nats://127.0.0.1:4222")
    args = parser.parse_args()
    asyncio.run(main(args.count, args.nats))
