"""Robopipe Studio exactly as shipped: it sends no credentials at all. Its fetches are
``mode: "cors"``, ``credentials: "omit"`` with no ``Authorization`` header
(``web/apps/labelstudio/src/utils/api-proxy.js:183-188``; ``getDefaultHeaders`` adds only
``Content-Type: application/json`` to a POST), and its live view is a browser WebSocket
(``providers/CameraProvider.tsx:32`` + ``pages/Capture/CaptureLive/CaptureLive.jsx:142``),
which carries no headers but ``Origin``.

With ``streams_anonymous_role`` on (and Studio's origin in ``cors_origins``) every call
is answered as that role; with it off, or from a network or a browser origin not
allowed, each is refused (401) and logged; a wrong credential is never answered as the
anonymous role."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from camnet.media.mjpeg import PartParser
from camnet.settings import load_settings
from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server
from tests.streams.conftest import BASE, MXID
from tests.streams.studio_support import (
    STUDIO_ORIGIN,
    decode,
    kinds,
    open_video,
    receive_fragments,
    ws_url,
)

LOGGER = "camnet.identity.anonymous"
STUDIO = {"Origin": STUDIO_ORIGIN}
"""All a Studio request carries that could say who sent it."""


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("studio-open"),
        streams_anonymous_role="operator",
        cors_origins=[STUDIO_ORIGIN],
    ) as running:
        yield running


def refused_socket(server: InProcessServer, headers: dict[str, str], query: str = "") -> int:
    async def attempt() -> int:
        url = ws_url(server.url, MXID, "CAM_B") + query
        with pytest.raises(InvalidStatus) as caught:
            await connect(url, additional_headers=headers)
        return caught.value.response.status_code

    return asyncio.run(attempt())


def anonymous_log(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == LOGGER]


def test_studio_lists_cameras_and_streams_without_credentials(
    open_server: InProcessServer,
) -> None:
    with open_server.client(headers=STUDIO) as studio:
        # CameraProvider.tsx:45 (ApiConfig.js:10): the first call, a simple CORS GET.
        cameras = studio.get("/cameras")
        assert cameras.status_code == 200, cameras.text
        assert cameras.headers["access-control-allow-origin"] == STUDIO_ORIGIN
        # CameraProvider.tsx:75-76 takes cameras[0]; :52-53 then its streams.
        mxid = cameras.json()[0]["mxid"]
        assert mxid == MXID
        streams = studio.get(f"/cameras/{mxid}/streams")
        assert streams.status_code == 200
        # CameraProvider.tsx:83: the first active stream.
        assert next(s for s in streams.json() if s["active"])["name"] == "CAM_A"
        assert studio.get(f"{BASE}/CAM_A/still").headers["content-type"] == "image/jpeg"
        # The same path as the WebSocket, as HTTP: MJPEG (an <img> needs no credentials).
        with studio.stream("GET", f"{BASE}/CAM_A/video") as video:
            assert video.status_code == 200
            assert video.headers["content-type"].startswith("multipart/x-mixed-replace")
            parser = PartParser()
            for chunk in video.iter_bytes():
                parts = parser.feed(chunk)
                if parts:
                    break
            assert parts[0][1].startswith(b"\xff\xd8")


def test_studio_preflight_then_control_without_credentials(open_server: InProcessServer) -> None:
    with open_server.client(headers=STUDIO) as studio:
        # CameraControls.jsx:19-23 posts JSON: the browser asks first (no credentials).
        preflight = studio.options(
            f"{BASE}/CAM_A/control",
            headers={
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200, preflight.text
        assert preflight.headers["access-control-allow-origin"] == STUDIO_ORIGIN
        control = studio.post(f"{BASE}/CAM_A/control", json={"brightness": 3})
        assert control.status_code == 200, control.text
        assert control.json()["brightness"] == 3
        assert control.headers["access-control-allow-origin"] == STUDIO_ORIGIN
        assert studio.post(f"{BASE}/CAM_A/control", json={"brightness": 0}).status_code == 200


def test_studio_live_view_without_credentials_decodes(open_server: InProcessServer) -> None:
    """VideoPlayer.jsx:28-33 and :85-96, on a socket opened with nothing but Origin."""

    async def watch() -> list[bytes]:
        ws = await open_video(open_server.url, MXID, "CAM_B", STUDIO)
        try:
            return await receive_fragments(ws, 6)
        finally:
            await ws.close()

    messages = asyncio.run(watch())
    assert kinds(messages[0]) == [b"ftyp", b"moov"]
    pictures = decode(messages)
    assert len(pictures) == 5
    assert all(picture.ndim == 3 and picture.mean() > 0 for picture in pictures)


def test_another_pages_socket_is_not_the_anonymous_role(
    open_server: InProcessServer, caplog: pytest.LogCaptureFixture
) -> None:
    """A browser lets any page open a WebSocket anywhere; only Studio's origin is let in."""
    caplog.set_level(logging.WARNING, logger=LOGGER)
    assert refused_socket(open_server, {"Origin": "http://evil.example"}) == 401
    with open_server.client(headers={"Origin": "http://evil.example"}) as page:
        assert page.get("/cameras").status_code == 401
    lines = anonymous_log(caplog)
    assert any("http://evil.example is not in cors_origins" in line for line in lines), lines


def test_a_wrong_credential_is_never_the_anonymous_role(open_server: InProcessServer) -> None:
    wrong = basic("admin", "not-the-password")
    with open_server.client(headers={**STUDIO, **wrong}) as client:
        assert client.get("/cameras").status_code == 401
    with open_server.client(headers={**STUDIO, "Authorization": "Bearer bogus"}) as client:
        assert client.get("/cameras").status_code == 401
    assert refused_socket(open_server, {**STUDIO, **wrong}) == 401
    assert refused_socket(open_server, STUDIO, "?token=bogus") == 401


def test_the_bus_stays_closed(open_server: InProcessServer) -> None:
    """The streams setting opens the streams face only; the Gateway has its own."""
    with open_server.client() as anonymous:
        query = {"Type": "Get", "Target": "Store", "Name": "State"}
        assert anonymous.get("/gateway/24.1.0/publish", params=query).status_code == 401


def test_studio_is_refused_with_the_setting_off(
    server: InProcessServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.clock.advance(61)  # past the once-a-minute log throttle of earlier refusals
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with server.client(headers=STUDIO) as studio:
        assert studio.get("/cameras").status_code == 401
        assert studio.get(f"/cameras/{MXID}/streams").status_code == 401
    assert refused_socket(server, STUDIO) == 401
    assert any("streams_anonymous_role is off" in line for line in anonymous_log(caplog))


def test_studio_is_refused_from_a_network_not_allowed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    with (
        inprocess_server(
            tmp_path,
            streams_anonymous_role="viewer",
            streams_anonymous_networks=["192.0.2.0/24"],
            cors_origins=[STUDIO_ORIGIN],
        ) as server,
        server.client(headers=STUDIO) as studio,
    ):
        assert studio.get("/cameras").status_code == 401
    lines = anonymous_log(caplog)
    assert any("outside streams_anonymous_networks (192.0.2.0/24)" in line for line in lines)


def test_the_settings_from_the_environment() -> None:
    environ = {
        "CAMNET_STREAMS_ANONYMOUS_ROLE": "viewer",
        "CAMNET_STREAMS_ANONYMOUS_NETWORKS": "10.0.0.0/8, ::1",
    }
    settings = load_settings(environ=environ)
    assert settings.streams_anonymous_role == "viewer"
    assert settings.streams_anonymous_networks == ["10.0.0.0/8", "::1"]
    assert load_settings(environ={}).streams_anonymous_role == "off"
    with pytest.raises(Exception, match="streams_anonymous_networks"):
        load_settings({"streams_anonymous_networks": ["not-a-net"]}, environ={})


def test_a_viewer_may_watch_but_not_control(tmp_path: Path) -> None:
    with (
        inprocess_server(
            tmp_path,
            streams_anonymous_role="viewer",
        ) as server,
        server.client() as script,
    ):  # no Origin: not a browser (curl, a script)
        assert script.get("/cameras").status_code == 200
        refused = script.post(f"{BASE}/CAM_A/control", json={"brightness": 1})
    assert refused.status_code == 403, refused.text
