"""Capture runs only while something consumes, and each frame is encoded once whatever
the number of viewers: asserted on the server's own counters (``/media/status``)."""

from __future__ import annotations

import time
from typing import Any

from tests.media_support import MjpegClient, picture
from tests.support import ServerProcess


def live(server: ServerProcess) -> dict[str, Any]:
    with server.client() as client:
        response = client.get("/media/status", params={"token": server.token})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["streams"]["live"]
    return result


def settled(server: ServerProcess) -> dict[str, Any]:
    """The counters once the worker has finished its last frame."""
    deadline = time.monotonic() + 5
    while (status := live(server))["running"]:
        assert time.monotonic() < deadline, "capture still running without consumers"
        time.sleep(0.05)
    return status


def test_status_needs_credentials(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.get("/media/status")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


def test_nothing_is_captured_or_encoded_while_nobody_consumes(server: ServerProcess) -> None:
    before = settled(server)
    time.sleep(1.0)
    after = live(server)
    assert after["consumers"] == 0
    assert not after["running"]
    assert (after["captured"], after["encoded"]) == (before["captured"], before["encoded"])
    assert server.api({"get": "[cam0Exists]"}).json() == {"cam0Exists": True}
    # A still request captures, then capture stops again.
    picture(server)
    still = settled(server)
    assert still["captured"] > after["captured"]
    assert still["starts"] == after["starts"] + 1
    time.sleep(0.5)
    assert live(server)["captured"] == still["captured"]


def test_each_frame_is_encoded_once_whatever_the_number_of_viewers(
    server: ServerProcess,
) -> None:
    before = settled(server)
    viewers = [MjpegClient(server) for _ in range(4)]
    try:
        for viewer in viewers:
            viewer.part()
        assert live(server)["consumers"] == 4
        start = time.monotonic()
        received = 0
        while time.monotonic() - start < 1.0:
            for viewer in viewers:
                viewer.part()
                received += 1
    finally:
        for viewer in viewers:
            viewer.close()
    after = settled(server)
    captured = after["captured"] - before["captured"]
    encoded = after["encoded"] - before["encoded"]
    assert encoded == captured
    assert received > captured  # four viewers shared each encode
    assert captured <= 30 * (time.monotonic() - start + 1.0)
    assert after["consumers"] == 0
