"""The fault suite: the outside world misbehaves, the server keeps answering, says what
is wrong in the dialect's error body, and recovers by itself once the fault is gone.

Database locked, a camera that hangs, NATS down and back, storage read-only then full,
the MQTT broker down and back. The webhook outbox across SIGTERM is in
``test_shutdown_outbox.py``, kill -9 during writes in ``test_kill_writes.py``."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nats
import numpy as np
import pytest
from nats.aio.msg import Msg

from camnet.events import EventKind
from tests.media_support import decode, mean
from tests.mjpeg_camera import MjpegCamera
from tests.network.integration.nodes import make_node, own_nats
from tests.network.mqtt_support import Relay, clear_retained, require_mosquitto, watching
from tests.network.mqtt_support import unique_root as mqtt_root
from tests.network.test_mqtt_bridge import bridge_server, machine_of
from tests.recording.helpers import journal, state, wait_for
from tests.silent import SilentListener
from tests.support import ServerProcess


def _ready(server: ServerProcess) -> tuple[int, dict[str, Any]]:
    with httpx.Client(base_url=server.url, timeout=10) as http:
        response = http.get("/readyz")
    return response.status_code, response.json()


def _failing(server: ServerProcess) -> dict[str, str]:
    """The checks ``/readyz`` fails on, with their reasons (empty: ready, 200)."""
    status, body = _ready(server)
    assert status == (503 if body["failed"] else 200), (status, body)
    return {name: body["checks"][name] for name in body["failed"]}


@pytest.fixture
def admin(fresh_server: ServerProcess) -> Iterator[httpx.Client]:
    fresh_server.env = {"CAMNET_WEBHOOK_ALLOW": "127.0.0.0/8"}
    fresh_server.start()
    with fresh_server.client(auth=("admin", fresh_server.admin_password)) as client:
        yield client


def test_database_locked_answers_503_changes_nothing_and_recovers(
    fresh_server: ServerProcess, admin: httpx.Client
) -> None:
    before = admin.get("/api").json()
    wanted = 17 if before["gain"] != 17 else 18
    holder = sqlite3.connect(fresh_server.data_dir / "camnet.sqlite3", isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")  # another process holds the write lock
        started = time.monotonic()
        refused = admin.post("/api", json={"gain": wanted})
        waited = time.monotonic() - started
        assert refused.status_code == 503, refused.text
        error = refused.json()["error"]
        assert error["code"] == "unavailable"
        assert "locked" in error["message"]
        assert waited < 30, "a bounded wait (the busy timeout), not a hang"
        # The server keeps answering, and the refused write did not half-apply.
        during = admin.get("/api")
        assert during.status_code == 200
        assert during.json()["gain"] == before["gain"]
        # Another dialect's write: the fleet body, 503 with Retry-After, nothing stored.
        hook = {"url": "http://127.0.0.1:9/hook", "webhook_type": "payload", "actions": "state"}
        busy = admin.post("/api/v1/webhooks", json=hook)
        assert busy.status_code == 503, busy.text
        assert busy.headers["retry-after"] == "1"
        assert "locked" in busy.json()["message"]
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    accepted = admin.post("/api", json={"gain": wanted})
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["gain"] == wanted
    assert admin.get("/api/v1/webhooks").json()["data"] == [], "the refused hook was not stored"
    made = admin.post("/api/v1/webhooks", json=hook)
    assert made.status_code == 201, made.text
    fresh_server.restart()
    with fresh_server.client(auth=("admin", fresh_server.admin_password)) as again:
        assert again.get("/api").json()["gain"] == wanted, "the acknowledged write is stored"


class HangingCamera(SilentListener):
    """An HTTP camera on a loopback port that accepts connections and never answers:
    OpenCV's read blocks (up to FFmpeg's 30 s) until the connections are closed."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/stream.mjpg"


CAMERA_COLOUR = (40, 200, 60)


def _from_camera(jpeg: bytes) -> bool:
    """The picture is the camera's own (its solid green), not the no-signal card."""
    colour = mean(decode(jpeg), (0.2, 0.4, 0.8, 0.9))  # below the overlay's text lines
    return float(np.abs(colour - np.array(CAMERA_COLOUR)).max()) < 40


def test_hanging_camera_answers_504_the_rest_keeps_answering_and_it_recovers(
    tmp_path: Path,
) -> None:
    """A network camera that accepts and never answers: ``/camera.jpeg`` answers 504 in
    bounded time, everything else answers. Then the camera comes back on the same port
    and its frames flow again by themselves, without a restart."""
    camera = HangingCamera()
    server = ServerProcess(
        tmp_path / "data",
        env={
            "CAMNET_CAMERA_SOURCE": "opencv",
            "CAMNET_CAMERA0_OPENCV": camera.url,
            "CAMNET_SNAPSHOT_TIMEOUT": "1",
            "CAMNET_CAMERA_RECONNECT_MAX": "0.5",
        },
    )
    working: MjpegCamera | None = None
    try:
        server.start()
        with server.client(auth=("admin", server.admin_password)) as admin:
            # Green must stay green: no grey-world white balance.
            assert admin.post("/api", json={"whiteBalance": False}).status_code == 200
            started = time.monotonic()
            hung = admin.get("/camera.jpeg")
            assert hung.status_code == 504, hung.text
            assert hung.json()["error"]["code"] == "camera_timeout"
            assert time.monotonic() - started < 10
            assert camera.connections >= 1, "the camera was really asked"
            # Everything else keeps answering while the capture thread is stuck.
            assert admin.get("/api", params={"get": "[light0]"}).status_code == 200
            assert admin.post("/api", json={"gain": 30}).json()["gain"] == 30
            assert admin.get("/camera.jpeg").status_code == 504
            # The camera restarts: the hung connections close and the same address
            # serves frames again. The source reconnects by itself.
            camera.hang_up()
            working = MjpegCamera(CAMERA_COLOUR, port=camera.port)
            deadline = time.monotonic() + 30
            while True:
                answer = admin.get("/camera.jpeg")
                if answer.status_code == 200 and _from_camera(answer.content):
                    break
                assert time.monotonic() < deadline, (answer.status_code, answer.headers)
            wait_for(
                lambda: state(admin, "cam0Exists") == {"cam0Exists": True},
                what="the head to be reported present again",
            )
            assert admin.get("/api", params={"get": "[gain]"}).json() == {"gain": 30}
    finally:
        camera.hang_up()
        if working is not None:
            working.stop()
        server.stop()


async def _updates_after_a_write(nats_url: str, http: httpx.Client, gain: int) -> list[str]:
    """The bus subjects NATS delivers while ``gain`` is written over HTTP."""
    client = await nats.connect(nats_url, allow_reconnect=False, connect_timeout=2)
    subjects: list[str] = []

    async def seen(message: Msg) -> None:
        subjects.append(message.subject)

    try:
        await client.subscribe(">", cb=seen)
        await client.flush()
        response = await asyncio.to_thread(http.post, "/api", json={"gain": gain})
        assert response.status_code == 200, response.text
        for _ in range(50):
            if any("gain" in subject for subject in subjects):
                break
            await asyncio.sleep(0.1)
    finally:
        await client.close()
    return subjects


def test_nats_down_and_back(tmp_path: Path) -> None:
    with own_nats(tmp_path) as server:
        node = make_node(tmp_path, f"t{secrets.token_hex(6)}", server.url)
        node.process.start()
        try:
            with node.process.client(auth=("admin", node.process.admin_password)) as admin:
                assert any(
                    "gain" in s for s in asyncio.run(_updates_after_a_write(server.url, admin, 11))
                )
                server.kill()
                # The node notices: /readyz says the bus is down (503).
                wait_for(lambda: _failing(node.process), what="/readyz to say not ready")
                failing = _failing(node.process)
                assert list(failing) == ["bus"]
                assert f"not connected to NATS at {server.url}" in failing["bus"]
                # The node keeps answering over HTTP, local changes included.
                assert admin.get("/api", params={"get": "[gain]"}).status_code == 200
                changed = admin.post("/api", json={"gain": 12})
                assert changed.status_code == 200, changed.text
                assert changed.json() == {"gain": 12}
                assert admin.get("/camera.jpeg").status_code == 200
                server.start()
                # It reconnects by itself: its changes reach the bus again.
                deadline = time.monotonic() + 20
                gain = 13
                while not any(
                    "gain" in s
                    for s in asyncio.run(_updates_after_a_write(server.url, admin, gain))
                ):
                    assert time.monotonic() < deadline, "the node did not reconnect"
                    gain += 1
                assert admin.get("/api", params={"get": "[gain]"}).json() == {"gain": gain}
                wait_for(lambda: not _failing(node.process), what="/readyz to be ready")
        finally:
            node.process.stop()


def _private_tmpfs(directory: Path, size: str) -> list[str]:
    """The prefix that runs a command in a mount namespace of its own with a tmpfs on
    ``directory`` (nobody else sees it); skips when this machine does not allow it.
    Tests run as root, where chmod does not stop writes: a read-only mount does."""
    directory.mkdir(parents=True)
    mount = f"mount -t tmpfs -o size={size} tmpfs {directory}"
    probe = subprocess.run(
        ["unshare", "--mount", "sh", "-c", mount], capture_output=True, text=True, check=False
    )
    if probe.returncode != 0:
        pytest.skip(f"no private mount namespace here ({probe.stderr.strip()})")
    return ["unshare", "--mount", "sh", "-c", f'{mount} && exec "$@"', "sh"]


def _remount(server: ServerProcess, directory: Path, mode: str) -> None:
    subprocess.run(
        [
            "nsenter",
            "--mount",
            "--target",
            str(server.pid),
            "mount",
            "-o",
            f"remount,{mode}",
            str(directory),
        ],
        check=True,
    )


def test_storage_read_only_then_full(tmp_path: Path) -> None:
    """A read-only storage refuses recording with a reason; once writable it records;
    when it fills up (a real ENOSPC on an 8 MiB tmpfs) the run ends with a ``full``
    storage event. The server answers throughout and needs no restart."""
    storage = tmp_path / "storage"
    server = ServerProcess(
        tmp_path / "data",
        env={"CAMNET_STORAGE_DIRS": str(storage)},
        prefix=_private_tmpfs(storage, size="8m"),
    )
    try:
        server.start()
        _remount(server, storage, "ro")
        with server.client(auth=("admin", server.admin_password)) as api:
            wait_for(
                lambda: not state(api, "diskStorages")["diskStorages"][0]["available"],
                what="the scan (every second) to see the storage read-only",
            )
            refused = api.get("/api", params={"record": "start"})
            assert refused.json() == {"record": "stop"}, "read-only: recording does not start"
            (reason,) = _failing(server).values()
            assert list(_failing(server)) == [f"storage {storage}"]
            assert "Read-only file system" in reason
            assert api.get("/camera.jpeg").status_code == 200
            _remount(server, storage, "rw")
            assert _failing(server) == {}
            wait_for(
                lambda: api.get("/api", params={"record": "start"}).json() == {"record": "start"},
                what="recording to start once the storage is writable",
            )
            wait_for(lambda: state(api, "record")["record"] == "stop", 60, "the disk to fill up")
            assert api.get("/api", params={"get": "[gain]"}).status_code == 200
            assert api.get("/camera.jpeg").status_code == 200
    finally:
        server.stop()
    events = journal(server.data_dir)
    reasons = [e.event.payload["reason"] for e in events if e.event.kind is EventKind.STORAGE]
    assert "full" in reasons


async def _mqtt_check(server: ServerProcess, ok: bool) -> dict[str, Any]:
    """``/readyz``'s body once its mqtt check says ``ok`` (or not): the bridge marks
    itself connected just after it has published ``online``."""
    deadline = time.monotonic() + 15
    while True:
        status, body = await asyncio.to_thread(_ready, server)
        assert status == 200, body
        if (body["checks"]["mqtt"] == "ok") == ok:
            return body
        assert time.monotonic() < deadline, body
        await asyncio.sleep(0.05)


async def test_mqtt_broker_down_and_back(tmp_path: Path) -> None:
    """The broker goes away (a relay in front of the machine's Mosquitto refuses every
    connection; Mosquitto itself keeps running): HTTP keeps answering, a c2 write is
    acknowledged, ``/readyz`` stays ready and names the bridge as informational. When
    the broker is back the bridge reconnects by itself and publishes the value written
    meanwhile; a ``/set`` works again; nothing acknowledged is lost across a restart."""
    require_mosquitto()
    root = mqtt_root()
    relay = Relay()
    await relay.start()
    server = bridge_server(tmp_path, root, relay.port)
    try:
        async with watching(f"{root}/#") as user:
            await asyncio.to_thread(server.start)
            machine = machine_of(server)
            availability = f"{root}/camnet/{machine}/availability"
            state = f"{root}/camnet/{machine}-C2"
            await user.wait_for(availability, b"online")
            await user.wait_for(f"{state}/gain", b"0")
            await user.wait_for(f"{state}/light1", b"false")
            await _mqtt_check(server, ok=True)

            relay.down()
            await user.wait_for(availability, b"offline")  # the last will, from the broker
            admin = ("admin", server.admin_password)
            with server.client(auth=admin) as api:
                written = await asyncio.to_thread(api.post, "/api", json={"gain": 23})
                assert written.status_code == 200, written.text
                assert written.json() == {"gain": 23}
                switched = await asyncio.to_thread(server.post, {"light1": True})
                assert switched.status_code == 200, switched.text
                read = await asyncio.to_thread(api.get, "/api", params={"get": "[gain,light1]"})
                assert read.json() == {"gain": 23, "light1": True}
                image = await asyncio.to_thread(api.get, "/camera.jpeg")
                assert image.status_code == 200
            await user.wait(lambda: relay.refused >= 2, "the bridge to try again")
            # Ready all the same (HTTP 200): the bridge is informational.
            ready = await _mqtt_check(server, ok=False)
            assert ready["status"] == "ready"
            assert ready["failed"] == []
            assert ready["informational"] == ["mqtt"]
            checks = ready["checks"]
            assert checks["mqtt"].startswith(f"not connected to mqtt://127.0.0.1:{relay.port}")
            assert checks["database"] == checks["bus"] == "ok"
            # Nothing reached the broker while it was away.
            assert user.last(f"{state}/gain") == b"0"

            relay.up()
            await user.wait_for(availability, b"online")
            await user.wait_for(f"{state}/gain", b"23")
            await user.wait_for(f"{state}/light1", b"true")
            await _mqtt_check(server, ok=True)
            await user.client.publish(f"{state}/light0/set", b"true", qos=1)
            await user.wait_for(f"{state}/light0", b"true")
            assert (await asyncio.to_thread(server.state))["light0"] is True

            await asyncio.to_thread(server.restart)
            after = await asyncio.to_thread(server.state)
            assert (after["gain"], after["light1"], after["light0"]) == (23, True, True)
    finally:
        await asyncio.to_thread(server.stop)
        await relay.stop()
        await clear_retained(root)
