"""Soak: mixed load for a long time; memory must stay flat and nothing may fail or be lost.

Why: the people who run camnet leave it up for months. Leaks, slow queues and rare
errors do not show in a 20-second benchmark; they show after half an hour of everything
at once. The figure is a ratio measured in the same run — the server's resident memory
at the end against its own memory once warmed up — so a noisy machine does not move it.

Load, all against one camnet server (its own process, fresh data directory):
- 200 MJPEG viewers of ``/camera.mjpeg`` (``_mjpeg_worker.py``, raw sockets);
- 500 c2 WebSocket clients of ``/api`` (``_soak_ws_worker.py``, raw sockets);
- setters at 10 requests/s in all: ``brightness`` by ``POST /api`` (JSON) and ``gain``
  by ``GET /api?gain=`` (query), 5/s each, every write a change;
- a reader: ``GET /api`` and ``/readyz`` once a second;
- Visual Backup recording on (``backupActive=true``, 60-second segments, so the split,
  index and retention paths run all the time);
- a fleet webhook (``actions: state``) to a local receiver (``_webhook_receiver.py``):
  every acknowledged write must arrive there.

Pass (exit 0) when all of these hold:
- memory flat: the median RSS of the last 5 minutes is within 10 % of the median RSS of
  the 5 minutes after the warm-up (2 minutes); runs shorter than 20 minutes (smoke tests)
  scale both down to a sixth and a quarter of the run;
- no error responses: every setter and reader answer 2xx; no MJPEG viewer or WebSocket
  client closed, no WebSocket error message, no window where an MJPEG viewer stalled
  (0 fps); the server's own ``camnet_http_requests_total`` shows no 5xx;
- no dropped webhook: for each variable, the deliveries the receiver got equal the
  acknowledged writes (matched by value order), within 120 s of the end.

Run from the repository root (it takes ``--minutes`` plus about 3 minutes):

    .venv/bin/python bench/soak.py --minutes 30

Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from _harness import BENCH_DIR, Camnet, ServerProcess, bench_script, install_sigterm_as_exit
from mjpeg_fanout import Worker, cpu_seconds, rss_mib

MJPEG_VIEWERS = 200
WS_CLIENTS = 500
SETTER_RATE = 5.0
"""Writes per second of each of the two setters (10/s together)."""
WARMUP_S = 120.0
FLAT_WINDOW_S = 300.0
WINDOW_S = 60.0
"""How often the viewers and WebSocket clients report."""
ALLOWED_GROWTH = 0.10


@dataclass
class Tallies:
    """What went wrong, and what was acknowledged (per variable, in order)."""

    errors: list[str] = field(default_factory=list)
    acknowledged: dict[str, list[int]] = field(default_factory=dict)
    requests: int = 0
    rss: list[tuple[float, float]] = field(default_factory=list)
    windows: list[dict[str, Any]] = field(default_factory=list)

    def error(self, text: str) -> None:
        if len(self.errors) < 200:
            self.errors.append(text)
        print(f"  ERROR {text}", flush=True)


class WsWorker(Worker):
    """``_soak_ws_worker.py``, driven like the MJPEG worker."""

    @classmethod
    async def start_ws(cls, url: str, clients: int) -> WsWorker:
        argv = bench_script("_soak_ws_worker.py", "--url", url, "--clients", str(clients))
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            start_new_session=True,
            limit=1 << 24,
        )
        return cls(process)


async def setter(
    http: httpx.AsyncClient,
    auth: httpx.BasicAuth,
    name: str,
    as_json: bool,
    stop: asyncio.Event,
    tallies: Tallies,
) -> None:
    """Writes ``name`` at ``SETTER_RATE``, alternating two values, so every write is a
    change and journals one event (one webhook)."""
    acknowledged = tallies.acknowledged.setdefault(name, [])
    period = 1.0 / SETTER_RATE
    index = 0
    next_at = time.monotonic()
    while not stop.is_set():
        value = 1 + index % 2
        index += 1
        try:
            if as_json:
                answer = await http.post("/api", json={name: value}, auth=auth)
            else:
                answer = await http.get("/api", params={name: str(value)}, auth=auth)
            tallies.requests += 1
            if answer.status_code == 200 and answer.json().get(name) == value:
                acknowledged.append(value)
            else:
                tallies.error(f"set {name}={value}: {answer.status_code} {answer.text[:200]}")
        except httpx.HTTPError as exc:
            tallies.error(f"set {name}={value}: {exc!r}")
        next_at += period
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def reader(
    http: httpx.AsyncClient, auth: httpx.BasicAuth, stop: asyncio.Event, tallies: Tallies
) -> None:
    while not stop.is_set():
        for path in ("/api", "/readyz"):
            try:
                answer = await http.get(path, auth=auth)
                tallies.requests += 1
                if answer.status_code != 200:
                    tallies.error(f"GET {path}: {answer.status_code} {answer.text[:200]}")
            except httpx.HTTPError as exc:
                tallies.error(f"GET {path}: {exc!r}")
        await asyncio.sleep(1.0)


async def sample_memory(pid: int, stop: asyncio.Event, tallies: Tallies, started: float) -> None:
    while not stop.is_set():
        tallies.rss.append((time.monotonic() - started, rss_mib(pid)))
        await asyncio.sleep(5.0)


async def windows(
    mjpeg: Worker,
    ws: WsWorker,
    pid: int,
    stop: asyncio.Event,
    tallies: Tallies,
    started: float,
) -> None:
    """Every ``WINDOW_S``: viewers' fps, closed connections, WebSocket messages, CPU."""
    await ws.send("stats")
    await ws.expect("stats", timeout=60)
    while not stop.is_set():
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        await mjpeg.send("go")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), WINDOW_S)
        await mjpeg.send("stop")
        result = json.loads(await mjpeg.expect("result", timeout=60))
        await ws.send("stats")
        stats = json.loads(await ws.expect("stats", timeout=60))
        elapsed = time.monotonic() - t0
        window = {
            "minute": round((time.monotonic() - started) / 60, 1),
            "cpu_percent": round((cpu_seconds(pid) - cpu0) / elapsed * 100, 1),
            "rss_mib": round(rss_mib(pid), 1),
            "mjpeg_fps_min": round(min(result["fps"]), 1),
            "mjpeg_fps_median": round(statistics.median(result["fps"]), 1),
            "mjpeg_closed": result["dead"],
            "ws_closed": stats["closed"],
            "ws_errors": stats["errors"],
            "ws_messages_least": stats["least"],
            "requests": tallies.requests,
        }
        tallies.windows.append(window)
        print("  " + json.dumps(window), flush=True)
        if result["dead"]:
            tallies.error(f"{result['dead']} MJPEG viewers were closed")
        if min(result["fps"]) <= 0:
            tallies.error("an MJPEG viewer got no frame for a whole window")
        if stats["closed"]:
            tallies.error(f"{stats['closed']} WebSocket clients were closed")
        if stats["errors"]:
            tallies.error(f"{stats['errors']} WebSocket error messages: {stats['error_samples']}")
        if stats["least"] <= 0:
            tallies.error("a WebSocket client got no message for a whole window")


async def webhook_values(receiver: httpx.AsyncClient, name: str) -> list[int]:
    """The values the receiver got for ``name``, in journal order (the event id in
    camnet's ``webhook-id``, ``msg_{event}_{webhook}``)."""
    arrivals = (await receiver.get("/stats")).json()["arrivals"]
    found = []
    for key, (_, body) in arrivals.items():
        payload = json.loads(body).get("payload", {})
        if payload.get("name") == name:
            found.append((int(key.split("_")[1]), payload.get("value")))
    return [value for _, value in sorted(found)]


def server_5xx(metrics_text: str) -> int:
    total = 0
    for line in metrics_text.splitlines():
        if line.startswith("camnet_http_requests_total{") and re.search(r'status="5\d\d"', line):
            total += int(float(line.rsplit(" ", 1)[1]))
    return total


def backup_segments(data_dir: Path) -> tuple[int, int]:
    files = list(data_dir.rglob("*.mkv"))
    return len(files), sum(path.stat().st_size for path in files)


def median_between(samples: list[tuple[float, float]], start: float, end: float) -> float:
    chosen = [rss for at, rss in samples if start <= at < end]
    return statistics.median(chosen) if chosen else float("nan")


async def soak(camnet: Camnet, receiver: ServerProcess, minutes: float) -> dict[str, Any]:
    assert camnet.server is not None
    assert camnet.server.env is not None
    assert camnet._tmp is not None
    data_dir = Path(camnet._tmp.name)
    pid = camnet.server.pid
    password = camnet.server.env["CAMNET_ADMIN_PASSWORD"]
    admin = httpx.BasicAuth("admin", password)
    base, token = camnet.base_url, camnet.token
    tallies = Tallies()
    rx = httpx.AsyncClient(base_url=receiver.base_url, timeout=30)
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        login = await http.post(
            "/api/v1/auth/login", json={"email": "admin@localhost", "password": password}
        )
        bearer = {"Authorization": f"Bearer {login.json()['data']['access_token']}"}
        hook = await http.post(
            "/api/v1/webhooks",
            headers=bearer,
            json={"url": receiver.base_url + "/hook", "actions": "state"},
        )
        if hook.status_code != 201:
            raise RuntimeError(f"webhook not created: {hook.status_code} {hook.text}")
        backup = await http.post("/api", json={"backupActive": True}, auth=admin)
        if backup.json().get("backupActive") is not True:
            raise RuntimeError(f"Visual Backup did not start: {backup.text[:300]}")
        await rx.get("/reset")  # only the soak's own writes from here on
        print(f"  connecting {MJPEG_VIEWERS} MJPEG viewers and {WS_CLIENTS} WebSocket clients")
        mjpeg = await Worker.start(f"{base}/camera.mjpeg?token={token}", MJPEG_VIEWERS, 25)
        ws_url = base.replace("http://", "ws://") + f"/api?token={token}"
        ws = await WsWorker.start_ws(ws_url, WS_CLIENTS)
        try:
            ready = int(await mjpeg.expect("ready", timeout=300))
            connected = int(await ws.expect("ready", timeout=300))
            if ready != MJPEG_VIEWERS or connected != WS_CLIENTS:
                raise RuntimeError(f"connected {ready} viewers and {connected} clients")
            print(f"  load running for {minutes} minutes", flush=True)
            stop = asyncio.Event()
            started = time.monotonic()
            tasks = [
                asyncio.create_task(setter(http, admin, "brightness", True, stop, tallies)),
                asyncio.create_task(setter(http, admin, "gain", False, stop, tallies)),
                asyncio.create_task(reader(http, admin, stop, tallies)),
                asyncio.create_task(sample_memory(pid, stop, tallies, started)),
                asyncio.create_task(windows(mjpeg, ws, pid, stop, tallies, started)),
            ]
            try:
                await asyncio.sleep(minutes * 60)
            finally:
                stop.set()
                await asyncio.gather(*tasks)
            duration = time.monotonic() - started
        finally:
            await mjpeg.stop()
            await ws.stop()
        metrics = (await http.get("/metrics", auth=admin)).text
        fives = server_5xx(metrics)
        if fives:
            tallies.error(f"the server counted {fives} 5xx answers")
    deadline = time.monotonic() + 120
    delivered: dict[str, list[int]] = {}
    while True:
        delivered = {name: await webhook_values(rx, name) for name in tallies.acknowledged}
        if all(
            len(delivered[name]) >= len(values) for name, values in tallies.acknowledged.items()
        ):
            break
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(1.0)
    dropped = 0
    for name, values in tallies.acknowledged.items():
        if delivered[name] != values:
            missing = len(values) - len(delivered[name])
            dropped += max(missing, 0)
            tallies.error(
                f"webhooks for {name}: {len(delivered[name])} delivered in order "
                f"{delivered[name] == values[: len(delivered[name])]}, "
                f"{len(values)} acknowledged"
            )
    # Short runs (smoke tests) scale the warm-up and the compared windows down.
    warmup, flat = min(WARMUP_S, duration / 6), min(FLAT_WINDOW_S, duration / 4)
    baseline = median_between(tallies.rss, warmup, warmup + flat)
    end = median_between(tallies.rss, duration - flat, duration + 1)
    growth = end / baseline - 1
    await rx.aclose()
    segments, recorded = backup_segments(data_dir)
    return {
        "benchmark": "soak",
        "minutes": round(duration / 60, 1),
        "mjpeg_viewers": MJPEG_VIEWERS,
        "ws_clients": WS_CLIENTS,
        "setter_writes": sum(len(v) for v in tallies.acknowledged.values()),
        "requests": tallies.requests,
        "rss_baseline_mib": round(baseline, 1),
        "rss_end_mib": round(end, 1),
        "rss_max_mib": round(max(rss for _, rss in tallies.rss), 1),
        "rss_growth_percent": round(growth * 100, 1),
        "cpu_percent_median": statistics.median(w["cpu_percent"] for w in tallies.windows),
        "mjpeg_fps_min": min(w["mjpeg_fps_min"] for w in tallies.windows),
        "mjpeg_fps_median": statistics.median(w["mjpeg_fps_median"] for w in tallies.windows),
        "webhooks_delivered": sum(len(v) for v in delivered.values()),
        "webhooks_dropped": dropped,
        "backup_segments": segments,
        "backup_bytes": recorded,
        "server_5xx": fives,
        "errors": len(tallies.errors),
        "first_errors": tallies.errors[:10],
        "flat": growth <= ALLOWED_GROWTH,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30.0)
    args = parser.parse_args(argv)
    if args.minutes < 2:
        parser.error("--minutes must be at least 2 (the figures compare windows of the run)")
    install_sigterm_as_exit()
    receiver = ServerProcess(
        "receiver", [sys.executable, str(BENCH_DIR / "_webhook_receiver.py")]
    ).start()
    os.environ.update(
        {
            "CAMNET_WEBHOOK_ALLOW": "127.0.0.0/8",
            "CAMNET_SEGMENT_SECONDS": "60",
            "CAMNET_METRICS_OPEN": "false",
            # One token watches all 200 streams here; the default cap is per person.
            "CAMNET_MJPEG_MAX_VIEWERS_PER_TOKEN": str(MJPEG_VIEWERS),
        }
    )
    try:
        with Camnet() as camnet:
            result = asyncio.run(soak(camnet, receiver, args.minutes))
    finally:
        receiver.stop()
    for key, value in result.items():
        print(f"{key:>22}: {value}")
    print("RESULT " + json.dumps(result), flush=True)
    ok = result["flat"] and not result["errors"] and not result["webhooks_dropped"]
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
