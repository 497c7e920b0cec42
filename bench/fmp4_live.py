"""The streams dialect's live video: MJPEG against the WebSocket fMP4 (H.264) view of one
stream, and 1 against 10 fMP4 viewers sharing the stream's one encoder.

Why: the fMP4 view exists to cost less bandwidth than MJPEG for the same pictures, and
its encoder is shared, so ten viewers should cost about what one costs (one encode per
picture, the same fragment bytes sent to each), not ten times.

camnet: a real ``camnet serve`` subprocess (the simulated stereo camera; ``CAM_A``'s
video is 1280×720 at 30 fps). Clients in this process: httpx reading the MJPEG of
``/cameras/{mxid}/streams/CAM_A/video``, websockets reading the fMP4 of the same path.
Reported per run of ``--duration`` seconds: pictures per second per viewer (min), bytes
per second per viewer, server CPU (utime+stime of the server process, % of one core),
and the encoder's own counters from ``/metrics`` (starts, pictures encoded) against the
fragments each viewer got. Reference in the same run: the MJPEG of the same stream.

Run from the repository root: ``python bench/fmp4_live.py``. Talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Coroutine, Sequence
from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from _harness import HOST, ServerProcess
from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.media.mjpeg import PartParser
from camnet.settings import default_machine_name

MXID = default_stereo_mxid(default_machine_name())  # the default stereo camera
PATH = f"/cameras/{MXID}/streams/CAM_A/video"
CLK_TCK = os.sysconf("SC_CLK_TCK")
METRIC = re.compile(r'^(camnet_h264_[a-z_]+?)(?:_total)?\{stream="[^"]+-CAM_A"\} ([0-9.e+]+)$')


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def encoder(client: httpx.Client) -> dict[str, float]:
    found = {}
    for line in client.get("/metrics").text.splitlines():
        match = METRIC.match(line)
        if match:
            found[match.group(1)] = float(match.group(2))
    return found


async def mjpeg_viewer(base: str, auth: tuple[str, str], seconds: float) -> tuple[int, int]:
    parser = PartParser()
    pictures = size = 0
    async with (
        httpx.AsyncClient(base_url=base, auth=auth, timeout=30) as client,
        client.stream("GET", PATH) as response,
    ):
        deadline = time.monotonic() + seconds
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            pictures += len(parser.feed(chunk))
            if time.monotonic() >= deadline:
                break
    return pictures, size


async def fmp4_viewer(base: str, header: str, seconds: float) -> tuple[int, int]:
    pictures = size = 0
    url = base.replace("http://", "ws://") + PATH
    async with connect(url, additional_headers={"Authorization": header}) as ws:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                data = await asyncio.wait_for(ws.recv(), remaining)
            except TimeoutError:
                break
            size += len(data)
            pictures += data[4:8] == b"moof"
    return pictures, size


def run(
    label: str,
    server: ServerProcess,
    viewers: Sequence[Coroutine[Any, Any, tuple[int, int]]],
    seconds: float,
) -> list[str]:
    async def together() -> list[tuple[int, int]]:
        return list(await asyncio.gather(*viewers))

    before = cpu_seconds(server.pid)
    started = time.monotonic()
    results = asyncio.run(together())
    cpu = (cpu_seconds(server.pid) - before) / (time.monotonic() - started)
    rates = [pictures / seconds for pictures, _ in results]
    per_viewer = statistics.median(size for _, size in results) / seconds
    return [
        label,
        str(len(results)),
        f"{min(rates):.1f}",
        f"{per_viewer / 1e6:.2f}",
        f"{100 * cpu:.0f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=10.0)
    args = parser.parse_args()
    password = "bench-" + secrets.token_hex(12)
    with tempfile.TemporaryDirectory(prefix="camnet-bench-") as data:
        env = dict(os.environ, CAMNET_ADMIN_PASSWORD=password)
        env["CAMNET_RATE_LIMIT_PER_MINUTE"] = "100000000"
        exe = Path(sys.executable).with_name("camnet")
        command = [str(exe)] if exe.exists() else [sys.executable, "-m", "camnet"]
        argv = [*command, "serve", "--data-dir", data, "--api-addr", f"{HOST}:0"]
        argv += ["--log-level", "warning"]
        with ServerProcess("camnet", argv, env).start() as server:
            base = server.base_url
            auth = ("admin", password)
            header = httpx.BasicAuth(*auth)._auth_header
            seconds = args.duration
            rows = [run("MJPEG", server, [mjpeg_viewer(base, auth, seconds)], seconds)]
            with httpx.Client(base_url=base, auth=auth) as client:
                start = encoder(client)
                rows.append(run("fMP4", server, [fmp4_viewer(base, header, seconds)], seconds))
                one = encoder(client)
                ten = [fmp4_viewer(base, header, seconds) for _ in range(10)]
                rows.append(run("fMP4", server, ten, seconds))
                after = encoder(client)
    header_row = ["view", "viewers", "min pictures/s", "MB/s per viewer", "server CPU %"]
    widths = [max(len(r[i]) for r in [header_row, *rows]) for i in range(len(header_row))]
    for row in [header_row, *rows]:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)))
    mjpeg_rate, fmp4_rate = float(rows[0][3]), float(rows[1][3])
    print(f"bandwidth per viewer, fMP4 / MJPEG: {fmp4_rate / mjpeg_rate:.3f}")
    print(f"server CPU, 10 fMP4 viewers / 1: {float(rows[2][4]) / max(1.0, float(rows[1][4])):.2f}")
    starts = after["camnet_h264_encoder_starts"] - one["camnet_h264_encoder_starts"]
    encoded = after["camnet_h264_frames_encoded"] - one["camnet_h264_frames_encoded"]
    first = one["camnet_h264_frames_encoded"] - start.get("camnet_h264_frames_encoded", 0)
    print(f"encoder starts for the 10 viewers: {starts:.0f}; pictures encoded: {encoded:.0f}")
    print(f"(for the single viewer: {first:.0f}; a per-viewer encode would be 10x)")


if __name__ == "__main__":
    main()
