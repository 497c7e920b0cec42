"""Cluster cost by network size: 3 real nodes and N simulated ones on a private NATS.

For each N (``--nodes 0,10,25,50``) the run starts a nats-server of its own (JetStream,
a monitor port; never the machine's 4222), three real ``camnet serve`` nodes A, B and C
(4 stereo cameras each, like the simulated ones), and N simulated nodes
(``_cluster_sim.py``: presence, heartbeats, readings and Execute answers as a real idle
node sends them). After a settling time it measures, over ``--seconds``:

- the network's messages a second: every message published to the server
  (``/varz`` ``in_msgs``);
- per real node, the messages the server delivered to it (``/connz`` ``out_msgs`` of
  its connection, ``camnet-<machine>``), and their share of the network's;
- per real node, CPU in % of one core (``/proc/<pid>/stat``, user + system); the N = 0
  row is the reference: what grows with N is the network's cost;
- a B→A change latency: a WebSocket on A watches B's control unit
  (``/nodes/B/api``); the bench toggles ``light0`` on B's own ``/api`` and times until
  A's socket has the value (p50/p99 over ``--samples``): from the POST (``p50_ms``,
  ``p99_ms``: B's HTTP handling and its commit to disk included) and from B's Update
  on NATS (``bus_p50_ms``, ``bus_p99_ms``: what the network and A add). With 100
  samples the p99 lies between the two largest: a single slow write makes it (the
  first write on B once paid an argon2 verification of the token: docs/benchmarks.md).

A watches B (its WebSocket); C is idle: no WebSocket, no ZeroMQ client. The goal
(issue 19): at 50 nodes × 4 cameras, C receives ≤ 10 % of the network's messages and
spends ≤ 5 % of a core on network traffic (its CPU minus the N = 0 row's), p99 ≤ 50 ms.

    .venv/bin/python bench/cluster_scale.py [--nodes 0,10,25,50] [--seconds 15]
        [--samples 100] [--legacy --camnet-src DIR]   # "before": old code, old heartbeats
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import nats
from nats.aio.msg import Msg
from websockets.asyncio.client import connect

from _harness import BENCH_DIR, ServerProcess
from camnet.bus.message import Envelope, MessageType, Topic
from camnet.bus.nats import unpack_frames
from camnet.bus.subjects import root_of, subject_of

NATS_SERVER = shutil.which("nats-server") or "/usr/sbin/nats-server"
TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


class PrivateNats:
    def __init__(self, root: Path) -> None:
        self.port, self.monitor = free_port(), free_port()
        store = root / "js"
        store.mkdir()
        self.process = subprocess.Popen(
            [
                NATS_SERVER,
                "-a",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-m",
                str(self.monitor),
                "-js",
                "-sd",
                str(store),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while True:
            try:
                self.get("varz")
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def get(self, what: str) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.monitor}/{what}"
        with urllib.request.urlopen(url, timeout=5) as response:
            result: dict[str, Any] = json.load(response)
            return result

    def delivered(self) -> dict[str, int]:
        """Messages delivered to each connection so far, by connection name."""
        connz = self.get("connz?limit=4096")
        return {c.get("name", ""): int(c["out_msgs"]) for c in connz.get("connections", [])}

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(5)


@dataclass
class RealNode:
    machine: str
    server: ServerProcess

    @property
    def url(self) -> str:
        return self.server.base_url


def start_node(root: Path, network: str, bus: str, token: str, src: str | None) -> RealNode:
    machine = f"r{secrets.token_hex(3)}"
    data = root / machine
    data.mkdir()
    mxids = ", ".join(f'"{machine.upper()}C{i}"' for i in range(4))
    config = root / f"{machine}.toml"
    config.write_text(
        f'machine_name = "{machine}"\nnetwork_name = "{network}"\nbus = "{bus}"\n'
        f"stereo_cameras = [{mxids}]\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMNET_")}
    env.update(
        {
            "CAMNET_API_TOKEN": token,
            "CAMNET_ADMIN_PASSWORD": "bench-" + secrets.token_hex(8),
            "CAMNET_ZMQ_PUBLISH_PORT": "0",
            "CAMNET_ZMQ_SUBSCRIBE_PORT": "0",
            "CAMNET_GATEWAY_PORT": "0",
            "CAMNET_RATE_LIMIT_PER_MINUTE": "100000000",
        }
    )
    if src:
        env["PYTHONPATH"] = src
    argv = [sys.executable, "-m", "camnet", "serve", "--data-dir", str(data)]
    argv += ["--api-addr", "127.0.0.1:0", "--log-level", "warning", "--config", str(config)]
    return RealNode(machine, ServerProcess(machine, argv, env).start(timeout=120))


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)


async def latencies(
    a: RealNode, b: RealNode, token: str, samples: int, nats_url: str, network: str
) -> tuple[list[float], list[float]]:
    """B→A: toggle light0 on B's own /api; time until A's WebSocket on B has it.

    Two figures per change: from the POST to B (B's HTTP handling and its commit to disk
    included), and from B's Update reaching NATS (a bench subscriber's clock) to A's
    WebSocket — what the network adds."""
    ws_url = a.url.replace("http://", "ws://") + f"/nodes/{b.machine}/api?token={token}"
    subject = subject_of(
        Topic(MessageType.UPDATE, source=f"{b.machine}-C2", name="State.light0"), root_of(network)
    )
    on_bus: dict[bool, float] = {}
    watcher = await nats.connect(nats_url)

    async def heard(message: Msg) -> None:
        envelope = Envelope.decode(unpack_frames(message.data))
        if isinstance(envelope.message.value, bool):
            on_bus[envelope.message.value] = time.perf_counter()

    await watcher.subscribe(subject, cb=heard)
    from_post: list[float] = []
    from_bus: list[float] = []
    try:
        async with (
            connect(ws_url, max_size=None) as ws,
            httpx.AsyncClient(base_url=b.url, timeout=10) as http,
        ):
            await asyncio.wait_for(ws.recv(), 10)  # the state on connect
            # Open the bench's connection to B first, with no credentials (B's token
            # cache stays cold): otherwise the first sample times the bench's own TCP
            # connect and its HTTP client's first use (40–60 ms under load), not B.
            (await http.get("/healthz")).raise_for_status()
            value = False
            for _ in range(samples):
                value = not value
                on_bus.pop(value, None)
                started = time.perf_counter()
                await http.post("/api", params={"token": token}, json={"light0": value})
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 10))
                    if message.get("light0") is value:
                        arrived = time.perf_counter()
                        from_post.append(arrived - started)
                        if value in on_bus:
                            from_bus.append(arrived - on_bus[value])
                        break
                await asyncio.sleep(0.05)
    finally:
        await watcher.close()
    return from_post, from_bus


def measure(n: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    token = "bench-" + secrets.token_hex(12)
    network = f"bench{secrets.token_hex(3)}"
    with tempfile.TemporaryDirectory(prefix="camnet-cluster-") as tmp:
        root = Path(tmp)
        nats = PrivateNats(root)
        sim: subprocess.Popen[str] | None = None
        nodes: list[RealNode] = []
        try:
            if n:
                sim_argv = [sys.executable, str(BENCH_DIR / "_cluster_sim.py"), "--url", nats.url]
                sim_argv += ["--network", network, "--nodes", str(n)]
                sim_argv += ["--legacy"] if args.legacy else []
                sim = subprocess.Popen(
                    sim_argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
                )
                assert sim.stdout is not None
                line = sim.stdout.readline()
                if not line.startswith("ready"):
                    raise RuntimeError(f"the simulated nodes did not start: {line!r}")
            for _ in range(3):
                nodes.append(start_node(root, network, nats.url, token, args.camnet_src))
            a, b, _c = nodes
            with httpx.Client(base_url=a.url, timeout=10) as http:
                wait_until(
                    lambda: (
                        http.get(
                            f"/nodes/{b.machine}/api", params={"token": token, "get": "[light0]"}
                        ).status_code
                        == 200
                    ),
                    120,
                    "A to serve B",
                )
            time.sleep(args.settle)  # adoption of every remote device, first reads
            loop = asyncio.new_event_loop()
            try:
                ws_task = loop.create_task(latencies(a, b, token, args.samples, nats.url, network))
                # Measure while A's WebSocket watches B (the latency loop runs meanwhile).
                varz0, conn0 = nats.get("varz")["in_msgs"], nats.delivered()
                cpu0 = {node.machine: cpu_seconds(node.server.pid) for node in nodes}
                started = time.monotonic()
                times, bus_times = loop.run_until_complete(ws_task)
                remaining = args.seconds - (time.monotonic() - started)
                if remaining > 0:
                    time.sleep(remaining)
                elapsed = time.monotonic() - started
                varz1, conn1 = nats.get("varz")["in_msgs"], nats.delivered()
                cpu1 = {node.machine: cpu_seconds(node.server.pid) for node in nodes}
            finally:
                loop.close()
            network_rate = (varz1 - varz0) / elapsed
            cuts = statistics.quantiles(times, n=100)
            bus_cuts = statistics.quantiles(bus_times, n=100)
            rows = []
            for role, node in zip(("A (watches B)", "B", "C (idle)"), nodes, strict=True):
                name = f"camnet-{node.machine}"
                received = (conn1.get(name, 0) - conn0.get(name, 0)) / elapsed
                cpu = cpu1[node.machine] - cpu0[node.machine]
                rows.append(
                    {
                        "sim_nodes": n,
                        "node": role,
                        "network_msgs_s": round(network_rate, 1),
                        "received_msgs_s": round(received, 1),
                        "share_pct": round(100 * received / network_rate, 1) if network_rate else 0,
                        "cpu_pct": round(100 * cpu / elapsed, 1),
                        "p50_ms": round(cuts[49] * 1000, 1),
                        "p99_ms": round(cuts[98] * 1000, 1),
                        "bus_p50_ms": round(bus_cuts[49] * 1000, 1),
                        "bus_p99_ms": round(bus_cuts[98] * 1000, 1),
                    }
                )
            return rows
        finally:
            for node in nodes:
                node.server.stop()
            if sim is not None:
                assert sim.stdin is not None
                sim.stdin.close()
                try:
                    sim.wait(10)
                except subprocess.TimeoutExpired:
                    sim.kill()
            nats.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nodes", default="0,10,25,50", help="simulated nodes, comma-separated")
    parser.add_argument("--seconds", type=float, default=15.0, help="measuring window")
    parser.add_argument("--settle", type=float, default=8.0, help="seconds before measuring")
    parser.add_argument("--samples", type=int, default=100, help="latency samples")
    parser.add_argument("--legacy", action="store_true", help="simulated nodes beat per service")
    parser.add_argument("--camnet-src", help="run the real nodes from this src/ (a 'before')")
    args = parser.parse_args()
    if not Path(NATS_SERVER).exists():
        sys.exit(f"{NATS_SERVER} is not installed")
    load = os.getloadavg()
    print(f"load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; cpus {os.cpu_count()}")
    rows = []
    for n in (int(x) for x in args.nodes.split(",")):
        rows.extend(measure(n, args))
        print(json.dumps(rows[-3:]), flush=True)
    header = ["sim_nodes", "node", "network_msgs_s", "received_msgs_s", "share_pct", "cpu_pct"]
    header += ["p50_ms", "p99_ms", "bus_p50_ms", "bus_p99_ms"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for row in rows:
        print("| " + " | ".join(str(row[h]) for h in header) + " |")
    load = os.getloadavg()
    print(f"load average after: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")


if __name__ == "__main__":
    main()
