"""RTSP and the WebSocket fMP4 view of one stream at once: one H.264 encoder, started
once, both subscribed to it (``camnet_h264_*`` in ``/metrics``)."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.identity.helpers import basic
from tests.inprocess import InProcessServer
from tests.protocols.rtsp_support import (
    admin_post,
    free_port,
    require_ffmpeg,
    url,
    wait_for_rtsp,
)
from tests.streams.conftest import MXID
from tests.streams.studio_support import encoder_metrics, open_video, receive_fragments


@pytest.fixture
def rtsp_port(server: InProcessServer) -> Iterator[int]:
    require_ffmpeg()
    port = free_port()
    assert admin_post(server, {"rtspPort": port, "rtspOn": True}).status_code == 200
    wait_for_rtsp(server, "listening")
    yield port
    admin_post(server, {"rtspOn": False})
    wait_for_rtsp(server, "stopped")


def wait_for_clients(admin: httpx.Client, stream: str, clients: int) -> dict[str, float]:
    deadline = time.monotonic() + 30
    while True:
        found = encoder_metrics(admin, stream)
        if found.get("camnet_h264_encoder_clients") == clients:
            return found
        assert time.monotonic() < deadline, f"{stream} never had {clients} clients: {found}"
        time.sleep(0.1)


def test_rtsp_and_fmp4_share_one_encoder(
    server: InProcessServer, admin: httpx.Client, rtsp_port: int
) -> None:
    before = encoder_metrics(admin, "-CAM_A").get("camnet_h264_encoder_starts", 0)
    player = subprocess.Popen(
        [
            *("ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport", "tcp"),
            *("-i", url(rtsp_port, f"/cameras/{MXID}/CAM_A"), "-t", "30", "-f", "null", "-"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        playing = wait_for_clients(admin, "-CAM_A", 1)
        assert playing["camnet_h264_encoder_starts"] == before + 1

        async def watch() -> dict[str, float]:
            ws = await open_video(server.url, MXID, "CAM_A", basic("admin", server.admin_password))
            try:
                assert len(await receive_fragments(ws, 5)) == 5
                return await asyncio.to_thread(wait_for_clients, admin, "-CAM_A", 2)
            finally:
                await ws.close()

        both = asyncio.run(watch())
        # The fMP4 viewer joined the running encoder: no second start, no second encode.
        assert both["camnet_h264_encoder_starts"] == before + 1
    finally:
        player.kill()
        player.wait()
    wait_for_clients(admin, "-CAM_A", 0)
