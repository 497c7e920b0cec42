"""SIGTERM: viewers end cleanly, the segment is completed in the index, exit within 10 s."""

from __future__ import annotations

import base64
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.recording.helpers import decoded_frames, wait_for
from tests.support import ServerProcess

EXIT_WITHIN = 10.0


def _process(server: ServerProcess) -> subprocess.Popen[str]:
    process = server._process
    assert process is not None
    return process


def test_sigterm_ends_viewers_completes_the_segment_and_exits(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path, env={"CAMNET_SEGMENT_SECONDS": "600"}).start()
    admin = ("admin", server.admin_password)
    viewer: dict[str, object] = {}

    def watch() -> None:
        try:
            with (
                httpx.Client(base_url=server.url, timeout=30, auth=admin) as http,
                http.stream("GET", "/camera.mjpeg") as response,
            ):
                viewer["status"] = response.status_code
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                viewer["bytes"] = size
                viewer["ended"] = "cleanly"
        except httpx.HTTPError as exc:
            viewer["ended"] = repr(exc)

    thread = threading.Thread(target=watch, daemon=True)
    socket_end: list[BaseException] = []

    def listen() -> None:
        with connect(f"{server.ws_url}?token={server.token}") as ws:
            try:
                while True:
                    ws.recv(timeout=30)
            except Exception as exc:  # what ended it is the assertion
                socket_end.append(exc)

    listener = threading.Thread(target=listen, daemon=True)
    try:
        with server.client(auth=admin) as api:
            assert api.get("/api", params={"record": "start"}).json() == {"record": "start"}
            thread.start()
            listener.start()
            wait_for(lambda: viewer.get("status") == 200, what="the viewer")
            time.sleep(2.0)
        process = _process(server)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        status = process.wait(EXIT_WITHIN + 5)
        took = time.monotonic() - began
        print(f"SIGTERM to exit: {took:.2f} s")
        assert took <= EXIT_WITHIN
        assert status == -signal.SIGTERM  # uvicorn re-raises the signal once it is done
        thread.join(5)
        assert viewer["ended"] == "cleanly", viewer
        assert int(str(viewer["bytes"])) > 0
        listener.join(5)
        (ended,) = socket_end
        # A closing handshake, not a cut: the server's close frame (1012, service
        # restart, as uvicorn sends on shutdown) and the client's answer.
        assert isinstance(ended, ConnectionClosed), repr(ended)
        assert ended.rcvd is not None
        assert ended.sent is not None
        assert ended.rcvd.code in (1001, 1012)
    finally:
        server.stop()
    # The segment that was being recorded is complete in the index and plays.
    server.start()
    try:
        with server.client(auth=admin) as api:
            items = api.get("/data/recordings", params={"perPage": 100}).json()["recordings"]
            assert len(items) == 1
            (item,) = items
            assert not item["open"]
            path = tmp_path / "storage" / item["file"]
            assert path.stat().st_size == item["size"]
            assert decoded_frames(path) == item["frames"] > 0
    finally:
        server.stop()


def test_a_second_sigterm_exits_at_once(tmp_path: Path) -> None:
    """A viewer that reads nothing keeps its response from ending, so the graceful stop
    waits for it (the listener's grace); a second SIGTERM meanwhile exits at once."""
    server = ServerProcess(tmp_path).start()
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    stuck = socket.socket()
    try:
        stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stuck.connect((host, int(port)))
        auth = base64.b64encode(f"admin:{server.admin_password}".encode()).decode()
        request = f"GET /camera.mjpeg HTTP/1.1\r\nHost: camnet\r\nAuthorization: Basic {auth}"
        stuck.sendall(f"{request}\r\n\r\n".encode())
        time.sleep(3.0)  # the buffers between fill up: the server's send blocks
        process = _process(server)
        began = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.3)  # the first signal is being handled: the stop has begun
        process.send_signal(signal.SIGTERM)
        status = process.wait(EXIT_WITHIN)
        print(f"two SIGTERMs to exit: {time.monotonic() - began:.2f} s")
        # 128 + SIGTERM: the immediate path; the graceful one ends in -SIGTERM.
        assert status == 128 + signal.SIGTERM
    finally:
        stuck.close()
        server.stop()
