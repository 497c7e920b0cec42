"""CORS for Robopipe Studio, which runs on its own origin: preflights answered before the
gate, credentialed requests from a named origin, nothing for an origin not named, and
the viewer caps on the fMP4 WebSocket (this server allows one viewer per stream)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest
from websockets.exceptions import InvalidStatus

from camnet.ops.cors import cors_options
from camnet.settings import SettingsError, load_settings
from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server
from tests.streams.conftest import BASE, MXID
from tests.streams.studio_support import STUDIO_ORIGIN, open_video, receive_fragments

OTHER_ORIGIN = "http://elsewhere.example"


@pytest.fixture(scope="module")
def cors_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("cors"),
        cors_origins=[STUDIO_ORIGIN],
        mjpeg_max_viewers_per_stream=1,
    ) as running:
        yield running


def preflight(client: httpx.Client, origin: str) -> httpx.Response:
    """What a browser sends before CameraControls.jsx:19-23 (a POST with
    ``Content-Type: application/json`` from Studio's origin)."""
    return client.options(
        f"{BASE}/CAM_A/control",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,authorization",
        },
    )


def test_a_preflight_is_answered_before_the_gate(cors_server: InProcessServer) -> None:
    with cors_server.client() as anonymous:
        response = preflight(anonymous, STUDIO_ORIGIN)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == STUDIO_ORIGIN
    assert response.headers["access-control-allow-credentials"] == "true"
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "content-type" in allowed
    assert "authorization" in allowed


def test_an_origin_not_named_gets_no_cors(cors_server: InProcessServer) -> None:
    with cors_server.client() as anonymous:
        response = preflight(anonymous, OTHER_ORIGIN)
        assert response.status_code == 400
        assert "access-control-allow-origin" not in response.headers
        admin = basic("admin", cors_server.admin_password)
        plain = anonymous.get("/cameras", headers={"Origin": OTHER_ORIGIN, **admin})
    assert plain.status_code == 200
    assert "access-control-allow-origin" not in plain.headers


def test_a_credentialed_request_from_studio(cors_server: InProcessServer) -> None:
    headers = {"Origin": STUDIO_ORIGIN, **basic("admin", cors_server.admin_password)}
    with cors_server.client(headers=headers) as studio:
        # CameraProvider.tsx:45 (ApiConfig.js:10): the first call.
        cameras = studio.get("/cameras")
        assert cameras.status_code == 200
        assert cameras.headers["access-control-allow-origin"] == STUDIO_ORIGIN
        assert cameras.headers["access-control-allow-credentials"] == "true"
        assert cameras.json()[0]["mxid"] == MXID
        # CameraControls.jsx:19-23: the POST the preflight above cleared.
        control = studio.post(f"{BASE}/CAM_A/control", json={"brightness": 2})
        assert control.status_code == 200
        assert control.json()["brightness"] == 2
        assert control.headers["access-control-allow-origin"] == STUDIO_ORIGIN
        studio.post(f"{BASE}/CAM_A/control", json={"brightness": 0})


def test_a_refusal_is_readable_by_studio(cors_server: InProcessServer) -> None:
    with cors_server.client(headers={"Origin": STUDIO_ORIGIN}) as anonymous:
        response = anonymous.get("/cameras")
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == STUDIO_ORIGIN


def test_without_the_setting_a_preflight_meets_the_gate(server: InProcessServer) -> None:
    with server.client() as anonymous:
        response = preflight(anonymous, STUDIO_ORIGIN)
    assert response.status_code == 401
    assert "access-control-allow-origin" not in response.headers


def test_credentials_are_never_allowed_with_any_origin() -> None:
    assert cors_options(["*"])["allow_credentials"] is False
    assert cors_options(["*", STUDIO_ORIGIN])["allow_credentials"] is False
    assert cors_options([STUDIO_ORIGIN])["allow_credentials"] is True


@pytest.mark.parametrize(
    "origin", ["studio.example", "http://studio.example/", "ftp://x", "http://u:p@host"]
)
def test_an_origin_must_be_an_origin(origin: str) -> None:
    with pytest.raises(SettingsError, match="cors_origins"):
        load_settings({"cors_origins": [origin]}, environ={})
    environ = {"CAMNET_CORS_ORIGINS": f"{STUDIO_ORIGIN}, https://b.example:8443"}
    assert load_settings(environ=environ).cors_origins == [STUDIO_ORIGIN, "https://b.example:8443"]


def test_the_fmp4_socket_counts_against_the_viewer_caps(cors_server: InProcessServer) -> None:
    headers = basic("admin", cors_server.admin_password)

    async def second_viewer() -> int:
        first = await open_video(cors_server.url, MXID, "CAM_B", headers)
        try:
            await receive_fragments(first, 1)
            with pytest.raises(InvalidStatus) as refused:
                await open_video(cors_server.url, MXID, "CAM_B", headers)
            return refused.value.response.status_code
        finally:
            await first.close()

    assert asyncio.run(second_viewer()) == 503

    async def again() -> int:
        # The slot is freed when the server has seen the first socket close.
        deadline = asyncio.get_running_loop().time() + 10
        while True:
            try:
                ws = await open_video(cors_server.url, MXID, "CAM_B", headers)
            except InvalidStatus:
                assert asyncio.get_running_loop().time() < deadline, "the slot was never freed"
                await asyncio.sleep(0.05)
                continue
            try:
                return len(await receive_fragments(ws, 1))
            finally:
                await ws.close()

    assert asyncio.run(again()) == 1
