"""RTSP: one 1280×720 30 fps H.264 stream to 1, 10 and 50 clients, against a reference.

Why: the RTSP server encodes each stream once (libx264 via PyAV) and fans the access
units out; its cost should barely grow with the clients, where per-client encoding
(what a naive server or one ffmpeg per viewer does) grows linearly.

camnet: a real ``camnet serve`` subprocess (``recordingResolution=HD``, 30 fps, RTSP on
through ``/api``). Clients: raw asyncio RTSP clients in this process (DESCRIBE, SETUP
``RTP/AVP/TCP`` interleaved, PLAY), counting complete pictures (RTP marker bit) per client.
Reported per client count over ``--duration`` seconds: delivered fps per client (min,
median), server CPU (utime+stime of the server process, % of one core, all threads), and
latency from capture to the arrival of a picture's last packet: each picture's RTP
timestamp is turned into its capture time with the RTCP sender report (which camnet stamps
with the capture time of the picture it names), p50/p95 over all pictures — *capture →
arrival*, without decoding.

Glass-to-glass: the server runs with ``CAMNET_SIM_TIME_CODE=1``, so every frame carries its
wall-clock capture time as a row of blocks (``camnet.media.timecode``). One of the N clients
is a real player: PyAV/FFmpeg opens the stream over RTSP/TCP, decodes every picture, reads
the time code and takes ``now − stamp`` (same machine, same clock) → p50/p95/p99. The other
N − 1 clients stay raw RTP readers.

Reference in the same run: one ffmpeg process encoding the same size and rate with the
same x264 settings in real time (``-re``, testsrc2); its CPU is the cost of one encode,
so ``N ×`` it is what per-client encoding would cost for N clients.

Run from the repository root: ``python bench/rtsp_fanout.py``. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import resource
import secrets
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import av
import httpx

from _harness import HOST, ServerProcess, host_port, percentile, print_table
from camnet.media import timecode

CLK_TCK = os.sysconf("SC_CLK_TCK")


def ms(seconds: float) -> float:
    return round(1000 * seconds, 1)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


@dataclass
class Client:
    frames: int = 0
    latencies: list[float] = field(default_factory=list)
    counting: bool = False
    sr: tuple[int, float] | None = None
    """(RTP timestamp, capture wall time) from the last sender report."""
    glass: list[float] = field(default_factory=list)
    """Glass-to-glass latencies (s) of the decoding client; empty for raw clients."""
    unreadable: int = 0
    """Decoded pictures whose time code could not be read."""


def run_player(url: str, client: Client, stop: threading.Event) -> None:
    """A decoding client: PyAV over RTSP/TCP, reading the time code of every picture."""
    with av.open(url, options={"rtsp_transport": "tcp"}, timeout=10) as container:
        for frame in container.decode(video=0):
            if stop.is_set():
                break
            stamp = timecode.read(frame.to_ndarray(format="gray"))
            now_ms = time.time() * 1000
            if not client.counting:
                continue
            client.frames += 1
            if stamp is None:
                client.unreadable += 1
            else:
                client.glass.append(timecode.age_ms(round(now_ms), stamp) / 1000)


async def request(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, text: str
) -> tuple[str, bytes]:
    writer.write(text.encode())
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = 0
    for line in head.split("\r\n"):
        if line.lower().startswith("content-length:"):
            length = int(line.split(":")[1])
    body = await reader.readexactly(length) if length else b""
    return head, body


async def run_client(port: int, auth: str, client: Client, stop: asyncio.Event) -> None:
    reader, writer = await asyncio.open_connection(HOST, port)
    url = f"rtsp://{HOST}:{port}/"
    header = f"Authorization: Basic {auth}\r\n"
    head, _ = await request(reader, writer, f"DESCRIBE {url} RTSP/1.0\r\nCSeq: 1\r\n{header}\r\n")
    assert " 200 " in head.split("\r\n")[0], head
    head, _ = await request(
        reader,
        writer,
        f"SETUP {url}trackID=0 RTSP/1.0\r\nCSeq: 2\r\n{header}"
        "Transport: RTP/AVP/TCP;unicast;interleaved=0-1\r\n\r\n",
    )
    session = next(
        line.split(":", 1)[1].split(";")[0].strip()
        for line in head.split("\r\n")
        if line.lower().startswith("session:")
    )
    head, _ = await request(
        reader, writer, f"PLAY {url} RTSP/1.0\r\nCSeq: 3\r\n{header}Session: {session}\r\n\r\n"
    )
    try:
        while not stop.is_set():
            prefix = await reader.readexactly(4)
            if prefix[0] != 0x24:
                raise RuntimeError("expected an interleaved frame")
            channel, size = prefix[1], struct.unpack("!H", prefix[2:4])[0]
            packet = await reader.readexactly(size)
            if channel == 1 and packet[1] == 200:
                msw, lsw, rtp = struct.unpack("!III", packet[8:20])
                client.sr = (rtp, msw - 2_208_988_800 + lsw / (1 << 32))
            elif channel == 0 and packet[1] & 0x80 and client.counting:
                client.frames += 1
                if client.sr is not None:
                    rtp = struct.unpack("!I", packet[4:8])[0]
                    ref_rtp, ref_time = client.sr
                    delta = ((rtp - ref_rtp + (1 << 31)) % (1 << 32) - (1 << 31)) / 90_000
                    client.latencies.append(time.time() - (ref_time + delta))
    finally:
        writer.close()


async def measure(port: int, token: str, auth: str, count: int, warmup: float) -> dict[str, Any]:
    clients = [Client() for _ in range(count)]
    stop = asyncio.Event()
    player_stop = threading.Event()
    url = f"rtsp://API-User:{token}@{HOST}:{port}/"
    tasks = [asyncio.create_task(run_client(port, auth, c, stop)) for c in clients[1:]]
    tasks.append(asyncio.create_task(asyncio.to_thread(run_player, url, clients[0], player_stop)))
    await asyncio.sleep(warmup)
    for client in clients:
        client.counting = True
    return {"clients": clients, "tasks": tasks, "stop": stop, "player_stop": player_stop}


def reference_cpu(seconds: float) -> float:
    """% of one core that one real-time ffmpeg/libx264 encode of 1280×720 30 fps takes."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-re",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1280x720:rate=30:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-profile:v",
            "baseline",
            "-f",
            "null",
            "-",
        ],
        check=True,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return 100 * used / seconds


async def bench(args: argparse.Namespace) -> dict[str, object]:
    admin = "bench-" + secrets.token_hex(12)
    token = "bench-" + secrets.token_hex(16)
    rows = []
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="camnet-bench-") as data:
        env = dict(os.environ, CAMNET_ADMIN_PASSWORD=admin, CAMNET_API_TOKEN=token)
        env["CAMNET_RATE_LIMIT_PER_MINUTE"] = "100000000"
        env["CAMNET_SIM_TIME_CODE"] = "1"
        exe = Path(sys.executable).with_name("camnet")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "camnet"]
        argv = [*command, "serve", "--data-dir", data, "--api-addr", f"{HOST}:0"]
        with ServerProcess("camnet", [*argv, "--log-level", "warning"], env) as server:
            host, _ = host_port(server.base_url)
            import socket

            with socket.socket() as probe:
                probe.bind((host, 0))
                port = probe.getsockname()[1]
            settings = {"recordingResolution": "HD", "recordingFps": 30}
            settings |= {"rtspPort": port, "rtspOn": True}
            async with httpx.AsyncClient(auth=("admin", admin)) as http:
                response = await http.post(f"{server.base_url}/api", json=settings)
            response.raise_for_status()
            await asyncio.sleep(1)
            auth = base64.b64encode(f"API-User:{token}".encode()).decode()
            for count in args.clients:
                run = await measure(port, token, auth, count, args.warmup)
                start_cpu, start = cpu_seconds(server.pid), time.monotonic()
                await asyncio.sleep(args.duration)
                cpu = 100 * (cpu_seconds(server.pid) - start_cpu) / (time.monotonic() - start)
                elapsed = time.monotonic() - start
                run["stop"].set()
                run["player_stop"].set()
                for task in run["tasks"][:-1]:
                    task.cancel()
                outcomes = await asyncio.gather(*run["tasks"], return_exceptions=True)
                if isinstance(outcomes[-1], BaseException):
                    raise RuntimeError("the decoding client failed") from outcomes[-1]
                fps = sorted(c.frames / elapsed for c in run["clients"])
                latencies = [x for c in run["clients"] for x in c.latencies]
                player = run["clients"][0]
                glass = player.glass
                row = {
                    "clients": count,
                    "fps_min": round(fps[0], 1),
                    "fps_median": round(statistics.median(fps), 1),
                    "cpu_pct": round(cpu, 1),
                    # with one client that client is the player: no raw reader, no figure
                    "latency_p50_ms": ms(percentile(latencies, 50)) if latencies else None,
                    "latency_p95_ms": ms(percentile(latencies, 95)) if latencies else None,
                    "player_fps": round(player.frames / elapsed, 1),
                    "glass_p50_ms": round(1000 * percentile(glass, 50), 1),
                    "glass_p95_ms": round(1000 * percentile(glass, 95), 1),
                    "glass_p99_ms": round(1000 * percentile(glass, 99), 1),
                    "glass_samples": len(player.glass),
                    "glass_unreadable": player.unreadable,
                }
                rows.append(row)
                await asyncio.sleep(2)  # the encoder stops between runs
    reference = reference_cpu(args.reference_seconds)
    results["camnet"] = rows
    results["reference_one_encode_cpu_pct"] = round(reference, 1)
    table = [
        [
            r["clients"],
            r["fps_min"],
            r["fps_median"],
            r["cpu_pct"],
            round(r["clients"] * reference, 1),
            round(r["clients"] * reference / max(r["cpu_pct"], 0.1), 1),
            "—" if r["latency_p50_ms"] is None else r["latency_p50_ms"],
            "—" if r["latency_p95_ms"] is None else r["latency_p95_ms"],
            r["player_fps"],
            r["glass_p50_ms"],
            r["glass_p95_ms"],
            r["glass_p99_ms"],
            f"{r['glass_samples']}/{r['glass_unreadable']}",
        ]
        for r in rows
    ]
    print_table(
        [
            "clients",
            "fps min",
            "fps median",
            "camnet CPU %",
            "per-client encode CPU % (N × ffmpeg)",
            "ratio",
            "capture→arrival p50 ms",
            "p95 ms",
            "player fps",
            "glass-to-glass p50 ms",
            "p95 ms",
            "p99 ms",
            "read/unreadable",
        ],
        table,
    )
    print(f"reference: one ffmpeg libx264 encode of 1280×720 at 30 fps: {reference:.1f} % CPU")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--reference-seconds", type=float, default=8.0)
    args = parser.parse_args()
    results = asyncio.run(bench(args))
    print("RESULT " + json.dumps({"rtsp_fanout": results}), flush=True)


if __name__ == "__main__":
    main()
