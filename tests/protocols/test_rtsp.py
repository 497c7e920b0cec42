"""The RTSP server against real clients: ffprobe and ffmpeg (Debian's), over TCP and UDP."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.inprocess import InProcessServer
from tests.media_support import MARKER, is_colour, mean
from tests.protocols.rtsp_support import (
    admin_get,
    admin_post,
    ffmpeg_frames,
    raw_request,
    require_ffmpeg,
    rtsp_camnet,
    url,
    wait_for_rtsp,
)
from tests.support import ADMIN_PASSWORD, TOKEN

pytestmark = pytest.mark.timeout(180)


@pytest.fixture(scope="module")
def camnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessServer, int]]:
    require_ffmpeg()
    with rtsp_camnet(tmp_path_factory.mktemp("rtsp")) as running:
        yield running


def test_ffprobe_describes_h264_over_tcp(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    result = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-rtsp_transport", "tcp"),
            *("-show_streams", "-of", "json", url(port)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    (stream,) = json.loads(result.stdout)["streams"]
    assert stream["codec_name"] == "h264"
    assert (stream["width"], stream["height"]) == (1280, 720)
    assert stream["profile"] in ("Constrained Baseline", "Baseline")


@pytest.mark.parametrize("transport", ["tcp", "udp"])
def test_ffmpeg_decodes_the_simulated_scene(
    camnet: tuple[InProcessServer, int], transport: str
) -> None:
    _, port = camnet
    frames = ffmpeg_frames(url(port, "/head0"), transport)
    # Head 0's marker is red where the scene draws it; head 1's is cyan.
    assert all(is_colour(mean(frame, MARKER), 0) for frame in frames)
    frames = ffmpeg_frames(url(port, "/head1"), transport, frames=1)
    assert is_colour(mean(frames[0], MARKER), 1)


def test_the_root_path_follows_the_camera_switch(camnet: tuple[InProcessServer, int]) -> None:
    server, port = camnet
    (frame,) = ffmpeg_frames(url(port, "/"), "tcp", frames=1)
    assert is_colour(mean(frame, MARKER), 0)
    assert admin_post(server, {"cameraSwitch": True}).status_code == 200
    try:
        (frame,) = ffmpeg_frames(url(port, "/"), "tcp", frames=1)
        assert is_colour(mean(frame, MARKER), 1)
    finally:
        admin_post(server, {"cameraSwitch": False})


def test_the_decoded_picture_is_the_hub_picture(camnet: tuple[InProcessServer, int]) -> None:
    server, port = camnet
    (frame,) = ffmpeg_frames(url(port, "/"), "tcp", frames=1)
    with server.client() as client:
        response = client.get("/camera.jpeg", params={"token": server.token})
    import simplejpeg

    still = simplejpeg.decode_jpeg(response.content, colorspace="RGB")
    assert still.shape == frame.shape
    # The same scene a moment apart: close everywhere (the scene moves a little).
    small = [np.asarray(p[::16, ::16], dtype=np.float64) for p in (frame, still)]
    assert float(np.abs(small[0] - small[1]).mean()) < 12


def test_the_api_user_token_works_over_rtsp(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    frames = ffmpeg_frames(url(port, "/head0", "API-User", TOKEN), "tcp", frames=1)
    assert is_colour(mean(frames[0], MARKER), 0)


def test_wrong_credentials_are_refused(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    for headers in ("", "Authorization: Basic " + base64.b64encode(b"admin:wrong").decode()):
        answer = raw_request(
            port,
            f"DESCRIBE rtsp://127.0.0.1:{port}/ RTSP/1.0\r\nCSeq: 2\r\n{headers}\r\n\r\n"
            if headers
            else f"DESCRIBE rtsp://127.0.0.1:{port}/ RTSP/1.0\r\nCSeq: 2\r\n\r\n",
        )
        assert answer.startswith("RTSP/1.0 401 "), answer
        assert 'WWW-Authenticate: Digest realm="camnet"' in answer
        assert 'WWW-Authenticate: Basic realm="camnet"' in answer
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", url(port, "/", "admin", "nope")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "401" in result.stderr


def test_digest_authentication(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    target = f"rtsp://127.0.0.1:{port}/"
    challenge = raw_request(port, f"DESCRIBE {target} RTSP/1.0\r\nCSeq: 1\r\n\r\n")
    match = re.search(r'Digest realm="camnet", nonce="([^"]+)"', challenge)
    assert match is not None, challenge
    nonce = match.group(1)

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()

    def describe(password: str) -> str:
        ha1 = md5(f"admin:camnet:{password}")
        answer = md5(f"{ha1}:{nonce}:{md5(f'DESCRIBE:{target}')}")
        header = (
            f'Digest username="admin", realm="camnet", nonce="{nonce}", uri="{target}", '
            f'response="{answer}"'
        )
        return raw_request(
            port, f"DESCRIBE {target} RTSP/1.0\r\nCSeq: 2\r\nAuthorization: {header}\r\n\r\n"
        )

    good = describe(ADMIN_PASSWORD)
    assert good.startswith("RTSP/1.0 200 "), good
    assert "m=video 0 RTP/AVP 96" in good
    assert "packetization-mode=1" in good
    assert "sprop-parameter-sets=" in good
    assert describe("wrong").startswith("RTSP/1.0 401 ")


def test_unknown_path_is_404(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    basic = base64.b64encode(f"admin:{ADMIN_PASSWORD}".encode()).decode()
    answer = raw_request(
        port,
        f"DESCRIBE rtsp://127.0.0.1:{port}/nowhere RTSP/1.0\r\nCSeq: 3\r\n"
        f"Authorization: Basic {basic}\r\n\r\n",
    )
    assert answer.startswith("RTSP/1.0 404 "), answer


def test_two_clients_share_one_encoder(camnet: tuple[InProcessServer, int]) -> None:
    server, port = camnet
    starts_before = admin_get(server, "rtspStatus")["rtspStatus"]["encoders"]["/head0"]["starts"]
    command = ["ffmpeg", "-nostdin", "-v", "error", "-rtsp_transport"]
    clients = [
        subprocess.Popen(
            [*command, transport, "-i", url(port, "/head0"), "-t", "20", "-f", "null", "-"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for transport in ("tcp", "udp")
    ]
    try:
        deadline = time.monotonic() + 30
        status = admin_get(server, "rtspStatus")["rtspStatus"]
        while status["clients"] < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            status = admin_get(server, "rtspStatus")["rtspStatus"]
        assert status["clients"] == 2, status
        assert sorted(s["transport"] for s in status["sessions"]) == ["tcp", "udp"]
        encoder = status["encoders"]["/head0"]
        assert encoder["running"] is True
        assert encoder["clients"] == 2
        assert encoder["starts"] == starts_before + 1
    finally:
        for client in clients:
            client.kill()
            client.wait()
    # The last client gone, the encoder stops.
    deadline = time.monotonic() + 20
    status = admin_get(server, "rtspStatus")["rtspStatus"]
    while status["encoders"]["/head0"]["running"] and time.monotonic() < deadline:
        time.sleep(0.2)
        status = admin_get(server, "rtspStatus")["rtspStatus"]
    assert status["encoders"]["/head0"]["running"] is False
    assert status["clients"] == 0


def test_options_lists_the_methods(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    answer = raw_request(port, f"OPTIONS rtsp://127.0.0.1:{port}/ RTSP/1.0\r\nCSeq: 9\r\n\r\n")
    assert answer.startswith("RTSP/1.0 200 OK\r\nCSeq: 9\r\n")
    for method in ("DESCRIBE", "SETUP", "PLAY", "TEARDOWN", "GET_PARAMETER"):
        assert method in answer


def test_rtsp_switched_off_and_moved_at_run_time(tmp_path: Path) -> None:
    require_ffmpeg()
    with rtsp_camnet(tmp_path) as (server, port):
        status = admin_get(server, "rtspStatus")["rtspStatus"]
        assert status["state"] == "listening"
        assert status["url"] == f"rtsp://127.0.0.1:{port}/"
        assert admin_post(server, {"rtspOn": False}).status_code == 200
        wait_for_rtsp(server, "stopped")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
        # A port another program holds is refused, and nothing changes.
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            taken = busy.getsockname()[1]
            response = admin_post(server, {"rtspPort": taken, "rtspOn": True})
            assert response.status_code == 400, response.text
            assert response.json()["error"]["code"] == "refused"
            assert "in use" in response.json()["error"]["message"]
        assert admin_get(server, "rtspOn", "rtspPort") == {"rtspOn": False, "rtspPort": port}
        assert admin_post(server, {"rtspOn": True}).status_code == 200
        wait_for_rtsp(server, "listening")
        frames = ffmpeg_frames(url(port, "/head0"), "tcp", frames=1)
        assert is_colour(mean(frames[0], MARKER), 0)


def test_the_api_user_may_not_switch_rtsp(camnet: tuple[InProcessServer, int]) -> None:
    server, _ = camnet
    with server.client() as client:
        response = client.post("/api", params={"token": TOKEN}, json={"rtspOn": False})
    assert response.status_code == 403
