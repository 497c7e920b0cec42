"""Robopipe Studio, the vendor's own client of the streams API, against a real camnet:
its exact requests (file and line of ``Robopipe/Studio`` in each test, see
``studio_support.py``), its answers parsed as its code parses them, and the WebSocket
fMP4 live view decoded by a real decoder."""

from __future__ import annotations

import asyncio
import itertools
import time

import httpx
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.identity.helpers import basic
from tests.inprocess import InProcessServer
from tests.streams.conftest import BASE, MXID, STRANGER
from tests.streams.studio_support import (
    decode,
    encoder_metrics,
    kinds,
    open_video,
    receive_fragments,
    timeline,
    ws_url,
)
from tests.streams.test_media import decode as decode_image

CAMERA_KEYS = {"mxid", "name", "camera_name", "platform", "protocol", "state", "status"}


def admin_headers(server: InProcessServer) -> dict[str, str]:
    return basic("admin", server.admin_password)


def test_cameras_as_studio_lists_them(admin: httpx.Client) -> None:
    # ApiConfig.js:10 + api-proxy.js createUrl: GET {robopipeHostname}/cameras, no slash.
    response = admin.get("/cameras")
    assert response.status_code == 200, response.text
    cameras = response.json()
    # camera.d.ts:24-32 (APICamera); CameraProvider.tsx:75-76 takes cameras[0];
    # CaptureLive.jsx:86 shows cameras.map(cam => cam.mxid).
    assert isinstance(cameras, list)
    assert len(cameras) >= 1
    assert set(cameras[0]) == CAMERA_KEYS
    assert [camera["mxid"] for camera in cameras] == [MXID]
    assert cameras[0]["state"] == "X_LINK_BOOTED"
    # The vendor's own path, with the slash (its oas.yml: GET /cameras/).
    assert admin.get("/cameras/").json() == cameras


def test_one_camera_in_the_vendor_shape(admin: httpx.Client) -> None:
    # Robopipe API routers/cameras.py: GET /cameras/{mxid}/ -> DeviceInfo.
    response = admin.get(f"/cameras/{MXID}/")
    assert response.status_code == 200
    camera = response.json()
    assert set(camera) == CAMERA_KEYS
    assert camera["mxid"] == MXID
    assert admin.get(f"/cameras/{MXID}").json() == camera
    missing = admin.get("/cameras/ABCDEF0123/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Camera ABCDEF0123 not found"}
    assert admin.get("/cameras/not-an-mxid/").status_code == 422


def test_cameras_of_another_account_are_not_listed(server: InProcessServer) -> None:
    with server.client(headers=basic(f"other\\{STRANGER[0]}", STRANGER[1])) as stranger:
        assert stranger.get("/cameras").json() == []
        assert stranger.get(f"/cameras/{MXID}/").status_code == 404
    with server.client() as anonymous:
        assert anonymous.get("/cameras").status_code == 401


def test_streams_as_studio_lists_them(admin: httpx.Client) -> None:
    # ApiConfig.js:11 + CameraProvider.tsx:52-53: GET /cameras/{mxid}/streams, no slash.
    response = admin.get(f"/cameras/{MXID}/streams")
    assert response.status_code == 200
    streams = response.json()
    # The seed's list shape; CameraProvider.tsx:83 picks streams.find(s => s.active).
    active = next(stream for stream in streams if stream["active"])
    assert set(active) == {"name", "active"}
    assert active["name"] == "CAM_A"


def test_fmp4_live_view_decodes_to_the_scene(server: InProcessServer, admin: httpx.Client) -> None:
    """VideoPlayer.jsx:28-33 and :85-96: an init segment, then fragments appended as they
    come; a real decoder turns them into pictures of the stream."""
    still = decode_image(admin.get(f"{BASE}/CAM_B/still").content)

    async def watch() -> list[bytes]:
        ws = await open_video(server.url, MXID, "CAM_B", admin_headers(server))
        try:
            return await receive_fragments(ws, 12)
        finally:
            await ws.close()

    messages = asyncio.run(watch())
    assert kinds(messages[0]) == [b"ftyp", b"moov"]
    assert all(kinds(message) == [b"moof", b"mdat"] for message in messages[1:])
    # Gap-free decode times: a browser's MSE drops every picture up to the next keyframe
    # after a gap of more than two durations (seen in Chromium before they were).
    times = [timeline(message) for message in messages[1:]]
    for (start, duration), (following, _) in itertools.pairwise(times):
        assert following == start + duration
    pictures = decode(messages)
    assert len(pictures) == 11
    height, width = still.shape[:2]
    for picture in pictures:
        assert picture.shape == (height, width, 3)
        # The same scene as the still (CAM_B is mono: grey, equal channels), frame noise
        # and two codecs apart.
        difference = np.abs(picture.astype(int) - still[:, :, ::-1].astype(int)).mean()
        assert difference < 12, difference
        assert abs(picture.mean() - still.mean()) < 6


def test_two_viewers_share_one_encoder(server: InProcessServer, admin: httpx.Client) -> None:
    before = encoder_metrics(admin, "-CAM_C")

    async def watch_twice() -> tuple[dict[str, float], dict[str, float], int]:
        first = await open_video(server.url, MXID, "CAM_C", admin_headers(server))
        second = await open_video(server.url, MXID, "CAM_C", admin_headers(server))
        try:
            await receive_fragments(first, 2)
            await receive_fragments(second, 2)
            during = await asyncio.to_thread(encoder_metrics, admin, "-CAM_C")
            got = await asyncio.gather(receive_fragments(first, 30), receive_fragments(second, 30))
            after = await asyncio.to_thread(encoder_metrics, admin, "-CAM_C")
            return during, after, sum(len(messages) for messages in got)
        finally:
            await first.close()
            await second.close()

    during, after, received = asyncio.run(watch_twice())
    assert during["camnet_h264_encoder_clients"] == 2
    assert during["camnet_h264_encoder_starts"] == before.get("camnet_h264_encoder_starts", 0) + 1
    # Both viewers got 30 pictures each; the encoder encoded them once (not 60).
    encoded = after["camnet_h264_frames_encoded"] - during["camnet_h264_frames_encoded"]
    assert received == 60
    assert encoded < 45, encoded
    # The last viewer gone, the encoder stops.
    deadline = time.monotonic() + 10
    while encoder_metrics(admin, "-CAM_C")["camnet_h264_encoder_clients"]:
        assert time.monotonic() < deadline, "the encoder kept its viewers"
        time.sleep(0.05)
    assert encoder_metrics(admin, "-CAM_C")["camnet_h264_encoder_clients"] == 0


def test_the_socket_needs_credentials_and_an_active_stream(server: InProcessServer) -> None:
    async def refused(headers: dict[str, str], stream: str = "CAM_B") -> int:
        with pytest.raises(InvalidStatus) as caught:
            await open_video(server.url, MXID, stream, headers)
        return caught.value.response.status_code

    assert asyncio.run(refused({})) == 401
    stranger = basic(f"other\\{STRANGER[0]}", STRANGER[1])
    assert asyncio.run(refused(stranger)) == 404
    # DEPTH_B_C starts inactive: no video of it (as the MJPEG).
    assert asyncio.run(refused(admin_headers(server), "DEPTH_B_C")) == 404


def test_deactivating_the_stream_ends_the_socket(
    server: InProcessServer, admin: httpx.Client
) -> None:
    async def watch() -> int | None:
        ws = await open_video(server.url, MXID, "CAM_C", admin_headers(server))
        await receive_fragments(ws, 2)
        deactivated = await asyncio.to_thread(admin.delete, f"{BASE}/CAM_C/")
        assert deactivated.status_code == 202
        try:
            while True:
                await asyncio.wait_for(ws.recv(), 20)
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd is not None else None

    try:
        assert asyncio.run(watch()) == 1001
    finally:
        assert admin.post(f"{BASE}/CAM_C/").status_code == 201


def test_a_browser_puts_its_token_in_the_query(server: InProcessServer) -> None:
    """A browser cannot set headers on a WebSocket: an access token in ``?token=``."""
    with server.client() as http:
        signed_in = http.post(
            "/ui/session", json={"username": "admin", "password": server.admin_password}
        )
        assert signed_in.status_code == 200, signed_in.text
        token = signed_in.cookies["camnet_session"]

    async def watch() -> list[bytes]:
        url = ws_url(server.url, MXID, "CAM_B") + f"?token={token}"
        async with connect(url) as ws:
            return await receive_fragments(ws, 2)

    assert kinds(asyncio.run(watch())[0]) == [b"ftyp", b"moov"]
