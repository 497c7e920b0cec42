"""Helpers for the RTSP tests: a camnet with RTSP on, ffmpeg as the client, raw requests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.inprocess import InProcessServer, inprocess_server
from tests.media_support import Picture
from tests.support import ADMIN_PASSWORD

WIDTH, HEIGHT = 1280, 720


def require_ffmpeg() -> None:
    """ffmpeg/ffprobe come from Debian's package (``make test`` installs it)."""
    if shutil.which("ffmpeg") and shutil.which("ffprobe"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("ffmpeg/ffprobe are missing; the test set-up (make test) installs them")
    pytest.skip("ffmpeg/ffprobe are not installed (apt-get install ffmpeg, or make test as root)")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def admin_post(server: InProcessServer, values: dict[str, Any]) -> Any:
    with server.client(auth=("admin", ADMIN_PASSWORD)) as client:
        return client.post("/api", json=values)


def admin_get(server: InProcessServer, *names: str) -> Any:
    with server.client(auth=("admin", ADMIN_PASSWORD)) as client:
        response = client.get("/api", params={"get": f"[{','.join(names)}]"})
    assert response.status_code == 200, response.text
    return response.json()


@contextmanager
def rtsp_camnet(data_dir: Path, **settings: Any) -> Iterator[tuple[InProcessServer, int]]:
    """camnet with a 1280×720 live stream and RTSP switched on through ``/api``
    (``settings``: more settings for the server)."""
    with inprocess_server(data_dir, **settings) as server:
        port = free_port()
        response = admin_post(
            server, {"recordingResolution": "HD", "rtspPort": port, "rtspOn": True}
        )
        assert response.status_code == 200, response.text
        wait_for_rtsp(server, "listening")
        yield server, port


def wait_for_rtsp(server: InProcessServer, state: str, timeout: float = 10) -> None:
    """The server switches right after the answer; ``rtspStatus`` says when it has."""
    deadline = time.monotonic() + timeout
    while admin_get(server, "rtspStatus")["rtspStatus"]["state"] != state:
        assert time.monotonic() < deadline, f"rtspStatus never became {state}"
        time.sleep(0.05)


def url(port: int, path: str = "/", user: str = "admin", password: str = ADMIN_PASSWORD) -> str:
    return f"rtsp://{user}:{password}@127.0.0.1:{port}{path}"


def ffmpeg_frames(
    rtsp_url: str, transport: str, frames: int = 3, timeout: float = 60
) -> list[Picture]:
    """``frames`` decoded pictures (RGB) read by ffmpeg from the RTSP URL."""
    result = subprocess.run(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            transport,
            "-i",
            rtsp_url,
            "-frames:v",
            str(frames),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    size = WIDTH * HEIGHT * 3
    assert len(result.stdout) == size * frames, result.stderr.decode(errors="replace")
    data = np.frombuffer(result.stdout, np.uint8)
    return [data[i * size : (i + 1) * size].reshape(HEIGHT, WIDTH, 3) for i in range(frames)]


def raw_request(port: int, text: str) -> str:
    """One RTSP request on a new connection; the response head and body as text."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(text.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        for line in head.decode().split("\r\n"):
            if line.lower().startswith("content-length:"):
                length = int(line.split(":")[1])
                while len(body) < length:
                    body += sock.recv(65536)
        return data.decode(errors="replace") if not body else (head + b"\r\n\r\n" + body).decode()
