"""One 1280×720 30 fps MJPEG stream to 10, 200 and 1,000 viewers: camnet vs two references.

Why: live images are camnet's heaviest traffic. The design (capture once, encode once,
fan out prebuilt part bytes) should deliver the full frame rate to every viewer at a
small fraction of a core. The goals: 200 viewers all ≥ 29 fps with the server under 25 %
of one core; 1,000 viewers median ≥ 28 fps.

Servers, all fed the same simulated scene at 1280×720, 30 fps, JPEG quality 75:
- ``camnet``: ``/camera.mjpeg`` of a real camnet server (``recordingResolution=HD``);
- ``naive``: ``reference_mjpeg_naive.py``, same stack, but every viewer encodes each
  frame itself (the per-viewer generator design);
- ``motion``: Debian's ``motion`` (C), reading the same scene recorded as an MJPEG .avi
  through ``netcam_url file://…`` and streaming it on its ``stream_port``.

How: viewers are raw asyncio Protocols on uvloop in ``--workers`` processes
(``_mjpeg_worker.py``), reading parts by ``Content-Length`` without copying JPEGs. For each
server and viewer count: connect all viewers (each must get a frame), warm up, then count
frames per viewer over ``--duration`` seconds. Reported: delivered fps per viewer (min,
median), server CPU over the window (utime+stime of the server process from
/proc/PID/stat, % of one core, all threads), frame age on arrival (from the part's
``X-Timestamp``; motion sends none), JPEG encodes per second (from the server's counters;
camnet: ``/media/status``), and the server's RSS. For camnet at 200 viewers it also
measures a stalled viewer (connected, reading nothing) — the others' fps and the RSS
with and without it — and ``/camera.jpeg`` latency while streaming and cold.

Run from the repository root: ``python bench/mjpeg_fanout.py`` (``--help`` for the knobs).
Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import (
    Camnet,
    HttpConnection,
    ServerProcess,
    bench_script,
    install_sigterm_as_exit,
    percentile,
    print_table,
    raise_nofile_limit,
    use_uvloop,
)

WIDTH, HEIGHT, FPS, QUALITY = 1280, 720, 30, 75
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


# --------------------------------------------------------------------------- process facts


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), in seconds."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * PAGE / 2**20


def get_json(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=10) as response:
        result: dict[str, Any] = json.loads(response.read())
        return result


# --------------------------------------------------------------------------- servers


@dataclass
class Target:
    name: str
    stream_url: str
    pid: int
    encodes: Callable[[], int | None] = lambda: None
    captures: Callable[[], int | None] = lambda: None
    jpeg_path: str | None = None
    base_url: str = ""


def camnet_target(camnet: Camnet) -> Target:
    base, token = camnet.base_url, camnet.token
    get_json(f"{base}/api?token={token}&recordingResolution=HD&recordingFps={FPS}")
    get_json(f"{base}/api?token={token}&recordingPictureQuality={QUALITY}")

    def live() -> dict[str, Any]:
        status: dict[str, Any] = get_json(f"{base}/media/status?token={token}")["streams"]["live"]
        return status

    assert camnet.server is not None
    return Target(
        "camnet",
        f"{base}/camera.mjpeg?token={token}",
        camnet.server.pid,
        encodes=lambda: int(live()["encoded"]),
        captures=lambda: int(live()["captured"]),
        jpeg_path=f"/camera.jpeg?token={token}",
        base_url=base,
    )


def naive_target(server: ServerProcess) -> Target:
    base = server.base_url
    return Target(
        "naive",
        f"{base}/camera.mjpeg",
        server.pid,
        encodes=lambda: int(get_json(f"{base}/status")["encoded"]),
        captures=lambda: int(get_json(f"{base}/status")["captured"]),
        base_url=base,
    )


def write_scene_video(path: Path, seconds: float) -> None:
    """The simulated scene, as camnet streams it, recorded as an MJPEG .avi for motion."""
    import cv2

    from camnet.devices.sources.sim import SimulatedHead
    from camnet.media.compose import Composer, HeadSources
    from camnet.media.config import StreamConfig

    composer = Composer(HeadSources([SimulatedHead(0, "bench head 0"), None]))
    config = StreamConfig(width=WIDTH, height=HEIGHT, fps=FPS, quality=QUALITY)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for index in range(round(seconds * FPS)):
        image = composer.compose(config, index / FPS, time.time())
        assert image is not None
        writer.write(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    writer.release()


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Motion:
    """Debian's motion, streaming the scene video on a loopback port."""

    def __init__(self, directory: Path, max_viewers: int) -> None:
        self.directory = directory
        self.port = free_port()
        self.max_viewers = max_viewers
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Motion:
        exe = shutil.which("motion")
        if exe is None:
            raise RuntimeError("motion is not installed (apt-get install -y motion)")
        video = self.directory / "scene.avi"
        write_scene_video(video, 10.0)
        config = self.directory / "motion.conf"
        config.write_text(
            "\n".join(
                [
                    "daemon off",
                    "setup_mode off",
                    f"target_dir {self.directory}",
                    f"log_file {self.directory / 'motion.log'}",
                    "log_level 4",
                    f"netcam_url file://{video}",
                    f"width {WIDTH}",
                    f"height {HEIGHT}",
                    f"framerate {FPS}",
                    "picture_output off",
                    "movie_output off",
                    "emulate_motion off",
                    "webcontrol_port 0",
                    f"stream_port {self.port}",
                    "stream_localhost on",
                    f"stream_quality {QUALITY}",
                    f"stream_maxrate {FPS}",
                    "stream_motion off",
                    "stream_auth_method 0",
                    "stream_limit 0",
                    "",
                ]
            )
        )
        self.process = subprocess.Popen(
            [exe, "-n", "-c", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while True:
            if self.process.poll() is not None:
                log = (self.directory / "motion.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"motion exited with {self.process.returncode}:\n{log}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("motion did not open its stream port") from None
                time.sleep(0.2)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)

    def target(self) -> Target:
        assert self.process is not None
        return Target("motion", f"http://127.0.0.1:{self.port}/", self.process.pid)


# --------------------------------------------------------------------------- viewers


class Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, url: str, viewers: int, batch: int) -> Worker:
        argv = bench_script("_mjpeg_worker.py", "--url", url, "--viewers", str(viewers),
                            "--batch", str(batch))  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            *argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            start_new_session=True, limit=1 << 24,
        )  # fmt: skip
        return cls(process)

    async def send(self, line: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(line.encode() + b"\n")
        await self.process.stdin.drain()

    async def expect(self, word: str, timeout: float) -> str:
        assert self.process.stdout is not None
        async with asyncio.timeout(timeout):
            line = (await self.process.stdout.readline()).decode()
        head, _, rest = line.strip().partition(" ")
        if head != word:
            raise RuntimeError(f"viewer worker: expected {word!r}, got {line.strip() or 'EOF'!r}")
        return rest

    async def stop(self) -> None:
        if self.process.returncode is None:
            try:
                await self.send("quit")
                async with asyncio.timeout(10):
                    await self.process.wait()
            except (TimeoutError, ConnectionError):
                self.process.kill()
                await self.process.wait()


@dataclass
class Window:
    fps: list[float] = field(default_factory=list)
    ages: list[float] = field(default_factory=list)
    dead: int = 0
    cpu_percent: float = 0.0
    encodes_per_s: float | None = None
    captures_per_s: float | None = None
    rss_mib: float = 0.0

    def summary(self) -> dict[str, Any]:
        def r(value: float | None, digits: int = 1) -> float | None:
            return None if value is None else round(value, digits)

        ages = [a * 1000 for a in self.ages]
        return {
            "fps_min": r(min(self.fps)),
            "fps_median": r(statistics.median(self.fps)),
            "cpu_percent": r(self.cpu_percent),
            "latency_p50_ms": r(percentile(ages, 50)) if ages else None,
            "latency_p99_ms": r(percentile(ages, 99)) if ages else None,
            "encodes_per_s": r(self.encodes_per_s),
            "captures_per_s": r(self.captures_per_s),
            "rss_mib": r(self.rss_mib),
            "dead": self.dead,
        }


async def measure_window(target: Target, workers: list[Worker], duration: float) -> Window:
    encodes0, captures0 = target.encodes(), target.captures()
    cpu0, t0 = cpu_seconds(target.pid), time.monotonic()
    for worker in workers:
        await worker.send("go")
    await asyncio.sleep(duration)
    for worker in workers:
        await worker.send("stop")
    cpu1, t1 = cpu_seconds(target.pid), time.monotonic()
    encodes1, captures1 = target.encodes(), target.captures()
    window = Window(cpu_percent=(cpu1 - cpu0) / (t1 - t0) * 100, rss_mib=rss_mib(target.pid))
    if encodes0 is not None and encodes1 is not None:
        window.encodes_per_s = (encodes1 - encodes0) / (t1 - t0)
    if captures0 is not None and captures1 is not None:
        window.captures_per_s = (captures1 - captures0) / (t1 - t0)
    for worker in workers:
        result = json.loads(await worker.expect("result", timeout=60))
        window.fps.extend(result["fps"])
        window.ages.extend(result["ages"])
        window.dead += result["dead"]
    return window


def stalled_viewer(url: str) -> socket.socket:
    """A viewer that connects, asks for the stream and never reads a byte."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((parts.hostname or "127.0.0.1", parts.port or 80))
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    sock.sendall(f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n\r\n".encode())
    return sock


async def jpeg_latency(target: Target, requests: int, gap: float) -> dict[str, float]:
    assert target.jpeg_path is not None
    connection = await HttpConnection.open(target.base_url)
    try:
        status, _ = await connection.get(target.jpeg_path)  # credentials verified once
        assert status == 200
        times = []
        for _ in range(requests):
            await asyncio.sleep(gap)
            start = time.perf_counter()
            status, body = await connection.get(target.jpeg_path)
            times.append((time.perf_counter() - start) * 1000)
            assert status == 200
            assert body[:2] == b"\xff\xd8"
    finally:
        connection.close()
    return {"p50_ms": round(percentile(times, 50), 1), "p99_ms": round(percentile(times, 99), 1)}


async def measure_target(target: Target, args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if target.jpeg_path is not None:
        await asyncio.sleep(1.0)  # nobody consumes: the hub is idle
        results["jpeg_cold"] = await jpeg_latency(target, args.jpeg_requests // 2, 0.3)
    for count in args.viewers:
        shares = [count // args.workers + (1 if i < count % args.workers else 0)
                  for i in range(min(args.workers, count))]  # fmt: skip
        workers: list[Worker] = []
        try:
            started = time.monotonic()
            for share in shares:
                workers.append(await Worker.start(target.stream_url, share, args.batch))
            for worker, share in zip(workers, shares, strict=True):
                ready = int(await worker.expect("ready", timeout=180))
                if ready != share:
                    raise RuntimeError(f"only {ready} of {share} viewers connected")
            print(f"{target.name}: {count} viewers connected in "
                  f"{time.monotonic() - started:.1f} s", flush=True)  # fmt: skip
            await asyncio.sleep(args.warmup)
            window = await measure_window(target, workers, args.duration)
            results[str(count)] = window.summary()
            print(f"  {json.dumps(results[str(count)])}", flush=True)
            if count == args.stall_at and target.name == "camnet":
                results["stalled"] = await measure_stalled(target, workers, args, window)
            if count == args.stall_at and target.jpeg_path is not None:
                results["jpeg_streaming"] = await jpeg_latency(target, args.jpeg_requests, 0.02)
        except (RuntimeError, TimeoutError, OSError) as exc:
            print(f"  {target.name} with {count} viewers failed: {exc}", flush=True)
            results[str(count)] = {"error": str(exc)}
        finally:
            for worker in workers:
                await worker.stop()
        await asyncio.sleep(1.0)
    return results


async def measure_stalled(
    target: Target, workers: list[Worker], args: argparse.Namespace, before: Window
) -> dict[str, Any]:
    rss_before = rss_mib(target.pid)
    stalled = stalled_viewer(target.stream_url)
    try:
        await asyncio.sleep(3.0)  # its socket buffers fill; the server's send waits
        rss_filled = rss_mib(target.pid)
        window = await measure_window(target, workers, args.duration)
        rss_after = rss_mib(target.pid)
    finally:
        stalled.close()
    return {
        "without": {"fps_min": round(min(before.fps), 1),
                    "fps_median": round(statistics.median(before.fps), 1)},
        "with": {"fps_min": round(min(window.fps), 1),
                 "fps_median": round(statistics.median(window.fps), 1)},
        "rss_mib": {"before": round(rss_before, 1), "stalled_3s": round(rss_filled, 1),
                    "stalled_end": round(rss_after, 1)},
    }  # fmt: skip


# --------------------------------------------------------------------------- main


def run_server(name: str, args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    with ExitStack() as stack:
        if name == "camnet":
            target = camnet_target(stack.enter_context(Camnet()))
        elif name == "naive":
            server = ServerProcess("naive", bench_script("reference_mjpeg_naive.py"))
            target = naive_target(stack.enter_context(server))
        else:
            try:
                target = stack.enter_context(Motion(scratch, max(args.viewers))).target()
            except RuntimeError as exc:
                print(f"motion could not be run: {exc}", flush=True)
                return {"error": str(exc)}
        return asyncio.run(measure_target(target, args))


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--viewers", default="10,200,1000", help="comma-separated counts")
    parser.add_argument("--servers", default="camnet,naive,motion", help="which, in order")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per window")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before a window")
    parser.add_argument("--workers", type=int, default=2, help="viewer processes")
    parser.add_argument("--batch", type=int, default=50, help="viewers connected at a time")
    parser.add_argument("--stall-at", type=int, default=200, help="viewer count of the stall test")
    parser.add_argument("--jpeg-requests", type=int, default=100, help="/camera.jpeg samples")
    args = parser.parse_args(argv)
    args.viewers = [int(v) for v in args.viewers.split(",")]
    args.servers = args.servers.split(",")
    if not all(1 <= v <= 5000 for v in args.viewers) or not 1 <= args.workers <= 8:
        parser.error("--viewers must be 1..5000 each and --workers 1..8")
    if not set(args.servers) <= {"camnet", "naive", "motion"}:
        parser.error("--servers: camnet, naive, motion")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    install_sigterm_as_exit()
    raise_nofile_limit(max(args.viewers) * 2 + 1024)
    use_uvloop()
    outcomes: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="camnet-mjpeg-bench-") as scratch:
        for name in args.servers:
            print(f"--- {name}", flush=True)
            outcomes[name] = run_server(name, args, Path(scratch))
    print()
    print(f"{WIDTH}x{HEIGHT} {FPS} fps q{QUALITY}; {args.duration:g} s windows; "
          f"{args.workers} viewer processes")  # fmt: skip
    rows = []
    for name, outcome in outcomes.items():
        for count in args.viewers:
            row = outcome.get(str(count), {"error": outcome.get("error", "not run")})
            if "error" in row:
                rows.append([name, count, "failed: " + row["error"][:60], "", "", "", "", ""])
                continue
            rows.append([
                name, count, row["fps_min"], row["fps_median"], row["cpu_percent"],
                "n/a" if row["latency_p50_ms"] is None
                else f"{row['latency_p50_ms']} / {row['latency_p99_ms']}",
                "n/a" if row["encodes_per_s"] is None else row["encodes_per_s"],
                row["rss_mib"],
            ])  # fmt: skip
    print_table(
        ["server", "viewers", "fps min", "fps median", "CPU % of a core",
         "latency p50/p99 ms", "encodes/s", "RSS MiB"],
        rows,
    )  # fmt: skip
    camnet = outcomes.get("camnet", {})
    for key in ("stalled", "jpeg_cold", "jpeg_streaming"):
        if key in camnet:
            print(f"camnet {key}: {json.dumps(camnet[key])}")
    goals = []
    at200, at1000 = camnet.get("200", {}), camnet.get("1000", {})
    if "fps_min" in at200:
        ok = at200["fps_min"] >= 29 and at200["cpu_percent"] < 25
        goals.append(f"200 viewers all >= 29 fps under 25 % CPU: {'met' if ok else 'MISSED'} "
                     f"(min {at200['fps_min']} fps, {at200['cpu_percent']} %)")  # fmt: skip
    if "fps_median" in at1000:
        ok = at1000["fps_median"] >= 28
        goals.append(f"1000 viewers median >= 28 fps: {'met' if ok else 'MISSED'} "
                     f"(median {at1000['fps_median']} fps)")  # fmt: skip
    for line in goals:
        print(line)
    print("RESULT " + json.dumps({"benchmark": "mjpeg_fanout", **outcomes}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
