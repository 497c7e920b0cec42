"""Webhook deliveries per second and the delay from a state change to its delivery.

Against one local receiver (its own process), in the same run:
- receiver capacity: raw keep-alive HTTP/1.1 requests on 16 connections (no client
  library), to show the receiver is not what limits the other figures;
- references: a plain POST loop (64 in flight, same body size) through camnet's webhook
  transport (``KeepAlivePool``: h11 over asyncio streams) and through httpx (keep-alive
  clients of 2 connections each, the best httpx arrangement measured), to show what the
  transport alone costs and why camnet does not send with httpx;
- camnet backlog: N state changes made while the receiver answers 503, then the
  receiver answers 200 and camnet drains its outbox; deliveries/s is N over the time
  from the first to the last arrival (signing, outbox reads and commits included);
- camnet delay: state changes one every 50 ms; the delay is from the acknowledged c2
  write to the delivery's arrival (p50, p99).

    .venv/bin/python bench/webhook_delivery.py [--events 2000] [--probes 200]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import httpx

from _harness import BENCH_DIR, Camnet, ServerProcess, install_sigterm_as_exit
from camnet.fleet.webhooks.request import request_target
from camnet.fleet.webhooks.transport import KeepAlivePool


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def reference_body() -> bytes:
    return json.dumps(
        {
            "stream_id": "x" * 36,
            "type": "state",
            "timestamp": "t",
            "payload": {"name": "brightness", "value": 1},
        }
    ).encode()


async def reference(url: str, count: int, in_flight: int = 64, per_lane: int = 2) -> float:
    """A plain httpx POST loop with camnet's transport: keep-alive clients with small
    pools (``per_lane`` connections each) and ``in_flight`` requests at once."""
    body = reference_body()
    slots = asyncio.Semaphore(in_flight)
    limits = httpx.Limits(max_connections=per_lane, max_keepalive_connections=per_lane)
    lanes = [httpx.AsyncClient(limits=limits) for _ in range(-(-in_flight // per_lane))]

    async def one(index: int) -> None:
        async with slots:
            await lanes[index % len(lanes)].post(
                url, content=body, headers={"webhook-id": f"ref_{index}"}
            )

    try:
        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.monotonic() - started)
    finally:
        for client in lanes:
            await client.aclose()


async def receiver_capacity(url: str, count: int, connections: int = 16) -> float:
    """Requests/s the receiver answers to raw keep-alive HTTP/1.1 on asyncio streams (no
    client library): shows the receiver is not the limit of the figures above."""
    parts = httpx.URL(url)
    body = reference_body()
    per = count // connections

    async def connection(lane: int) -> None:
        reader, writer = await asyncio.open_connection(parts.host, parts.port)
        for index in range(per):
            writer.write(
                f"POST {parts.raw_path.decode()} HTTP/1.1\r\nhost: {parts.host}\r\n"
                f"webhook-id: raw_{lane}_{index}\r\ncontent-length: {len(body)}\r\n\r\n".encode()
                + body
            )
            head = await reader.readuntil(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200"), head
        writer.close()
        await writer.wait_closed()

    started = time.monotonic()
    await asyncio.gather(*(connection(lane) for lane in range(connections)))
    return per * connections / (time.monotonic() - started)


async def transport_reference(url: str, count: int, in_flight: int = 64) -> float:
    """A plain POST loop through camnet's webhook transport, ``in_flight`` at once."""
    body = reference_body()
    slots = asyncio.Semaphore(in_flight)
    pool = KeepAlivePool()
    destination, target = request_target(url, ["127.0.0.1"], [])

    async def one(index: int) -> None:
        async with slots:
            answer = await pool.request(
                "POST", destination, target, [("webhook-id", f"pool_{index}")], body
            )
            assert answer.status == 200, answer

    try:
        started = time.monotonic()
        await asyncio.gather(*(one(i) for i in range(count)))
        return count / (time.monotonic() - started)
    finally:
        await pool.aclose()


def event_id(webhook_id: str) -> int:
    """The journal id in camnet's ``webhook-id`` (``msg_{event}_{webhook}``)."""
    return int(webhook_id.split("_")[1])


def main() -> None:
    install_sigterm_as_exit()
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--probes", type=int, default=200)
    args = parser.parse_args()
    receiver = ServerProcess(
        "receiver", [sys.executable, str(BENCH_DIR / "_webhook_receiver.py")]
    ).start()
    os.environ["CAMNET_WEBHOOK_ALLOW"] = "127.0.0.0/8"
    os.environ["CAMNET_WEBHOOK_RETRY_MAX"] = "1"
    try:
        rx = httpx.Client(base_url=receiver.base_url, timeout=30)
        raw_rate = asyncio.run(receiver_capacity(receiver.base_url + "/hook", args.events))
        rx.get("/reset")
        ref_rate = asyncio.run(reference(receiver.base_url + "/hook", args.events))
        rx.get("/reset")
        pool_rate = asyncio.run(transport_reference(receiver.base_url + "/hook", args.events))
        rx.get("/reset")
        with Camnet() as camnet:
            assert camnet.server is not None
            assert camnet.server.env is not None
            password = camnet.server.env["CAMNET_ADMIN_PASSWORD"]
            http = httpx.Client(base_url=camnet.base_url, timeout=30)
            login = http.post(
                "/api/v1/auth/login", json={"email": "admin@localhost", "password": password}
            )
            token = login.json()["data"]["access_token"]
            auth = {"Authorization": f"Bearer {token}"}
            rx.get("/control", params={"status": 503})
            made = http.post(
                "/api/v1/webhooks",
                headers=auth,
                json={"url": receiver.base_url + "/hook", "actions": "state"},
            )
            assert made.status_code == 201, made.text
            for index in range(args.events):
                http.get(
                    "/api", params={"brightness": str(1 + index % 2)}, auth=("admin", password)
                )
            time.sleep(1.0)
            rx.get("/control", params={"status": 200})
            deadline = time.monotonic() + 120
            while len(rx.get("/stats").json()["arrivals"]) < args.events:
                if time.monotonic() > deadline:
                    raise SystemExit("camnet did not deliver the backlog in 120 s")
                time.sleep(0.2)
            times = sorted(t for t, _ in rx.get("/stats").json()["arrivals"].values())
            rate = (len(times) - 1) / (times[-1] - times[0])
            rx.get("/reset")
            sent: dict[int, float] = {}
            for index in range(args.probes):
                value = 3 + index % 2
                sent[index] = time.time()
                http.get("/api", params={"brightness": str(value)}, auth=("admin", password))
                time.sleep(0.05)
            deadline = time.monotonic() + 30
            while len(rx.get("/stats").json()["arrivals"]) < args.probes:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            # Only this phase's brightness changes, in journal order (= write order).
            probes = sorted(
                (event_id(key), t)
                for key, (t, body) in rx.get("/stats").json()["arrivals"].items()
                if json.loads(body)["payload"].get("value") in (3, 4)
            )
            arrivals = [t for _, t in probes]
            starts = [sent[i] for i in sorted(sent)]
            if len(arrivals) != len(starts):
                raise SystemExit(f"{len(arrivals)} probe deliveries for {len(starts)} writes")
            delays = [(a - s) * 1000 for a, s in zip(arrivals, starts, strict=False)]
    finally:
        receiver.stop()
    result = {
        "receiver_raw_req_per_s": round(raw_rate),
        "reference_posts_per_s": round(ref_rate),
        "transport_posts_per_s": round(pool_rate),
        "camnet_deliveries_per_s": round(rate),
        "ratio": round(rate / pool_rate, 2),
        "delay_ms_p50": round(statistics.median(delays), 1),
        "delay_ms_p99": round(percentile(delays, 0.99), 1),
    }
    print(f"receiver, raw keep-alive  : {result['receiver_raw_req_per_s']} req/s")
    print(f"reference httpx POST loop : {result['reference_posts_per_s']} req/s")
    print(f"camnet transport POST loop: {result['transport_posts_per_s']} req/s")
    print(
        f"camnet backlog deliveries : {result['camnet_deliveries_per_s']} /s "
        f"({result['ratio']} of the transport loop)"
    )
    print(
        f"state change -> delivery  : p50 {result['delay_ms_p50']} ms, "
        f"p99 {result['delay_ms_p99']} ms"
    )
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
