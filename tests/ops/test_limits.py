"""Limits through a real server: MJPEG viewers per stream and per token, request body
size; each refused in the dialect's error body and counted in
``camnet_limit_refusals_total``."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.settings import default_machine_name
from tests.faces.c2.ws_support import open_api, receive_json, wait_for_key
from tests.inprocess import InProcessServer, inprocess_server
from tests.ops.test_faults import HangingCamera
from tests.ops.test_metrics import scrape, value

REFUSALS = "camnet_limit_refusals_total"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("limits"),
        mjpeg_max_viewers_per_stream=2,
        mjpeg_max_viewers_per_token=1,
        max_body_bytes=1024,
        ws_max_message_bytes=1024,
        max_page_size=5,
    ) as running:
        yield running


def watching(server: InProcessServer, **client: Any) -> AbstractContextManager[None]:
    """A viewer of the c2 ``/camera.mjpeg``."""
    return viewing(server, "/camera.mjpeg", **client)


@contextmanager
def viewing(server: InProcessServer, path: str, **client: Any) -> Iterator[None]:
    """An MJPEG viewer that holds its stream open (it has its first bytes) until exit."""
    started, stop = threading.Event(), threading.Event()
    failure: list[str] = []

    def run() -> None:
        with server.client(**client) as http, http.stream("GET", path) as response:
            if response.status_code != 200:
                failure.append(f"{response.status_code}")
                started.set()
                return
            for _chunk in response.iter_bytes():
                started.set()
                if stop.is_set():
                    return

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(10)
    assert not failure, failure
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def refused(server: InProcessServer, **client: Any) -> httpx.Response:
    with server.client(**client) as http:
        return http.get("/camera.mjpeg")


def test_mjpeg_viewers_per_token_and_per_stream(server: InProcessServer) -> None:
    token = {"params": {"token": server.token}}
    admin = {"auth": ("admin", server.admin_password)}
    before = scrape(server)
    with ExitStack() as stack:
        stack.enter_context(watching(server, **token))
        again = refused(server, **token)
        assert again.status_code == 429
        assert again.json()["error"]["code"] == "too_many_viewers"
        stack.enter_context(watching(server, **admin))
        full = refused(server, auth=("admin", server.admin_password))
        assert full.status_code == 503
        assert full.json()["error"]["code"] == "stream_full"
        assert "maximum of 2 viewers" in full.json()["error"]["message"]
        during = scrape(server)
        device = server.app.state.node.control_unit.name
        live = {"face": "mjpeg", "device": device, "stream": "live"}
        assert value(during, "camnet_viewers", **live) == 2
    after = scrape(server)
    for limit in ("mjpeg_viewers_per_token", "mjpeg_viewers_per_stream"):
        gained = value(after, REFUSALS, limit=limit) - value(before, REFUSALS, limit=limit)
        assert gained == 1, limit
    # The places are free again once the viewers have gone.
    with watching(server, **token):
        pass


BIG = b'{"gain":23,"name":"big","pad":"' + b"a" * 4096 + b'"}'
MXID = default_stereo_mxid(default_machine_name())
"""The default stereo camera of a server on this machine (derived from its name)."""
VIDEO = f"/cameras/{MXID}/streams/CAM_A/video"


def fleet_session(server: InProcessServer) -> dict[str, str]:
    """A bearer token of its own session (the per-token cap counts sessions apart)."""
    with server.client() as http:
        login = http.post(
            "/api/v1/auth/login",
            json={"email": "admin@localhost", "password": server.admin_password},
        )
    assert login.status_code == 200, login.text
    return {"Authorization": f"Bearer {login.json()['data']['access_token']}"}


def test_streams_video_viewers_share_the_caps(server: InProcessServer) -> None:
    """``…/video`` is capped like ``/camera.mjpeg``, by the same per-token count, and
    refused in the streams body (``{"detail"}``)."""
    admin = {"auth": ("admin", server.admin_password)}
    before = scrape(server)
    with watching(server, **admin):
        # The admin's one place is taken by the c2 stream: the video is refused.
        with server.client(**admin) as http:
            again = http.get(VIDEO)
        assert again.status_code == 429, again.text
        assert "maximum" in again.json()["detail"]
        assert again.headers["retry-after"] == "5"
    first, second, third = (fleet_session(server) for _ in range(3))
    with viewing(server, VIDEO, headers=first), viewing(server, VIDEO, headers=second):
        with server.client(headers=third) as http:
            full = http.get(VIDEO)
        assert full.status_code == 503, full.text
        assert "maximum of 2 viewers" in full.json()["detail"]
    after = scrape(server)
    for limit in ("mjpeg_viewers_per_token", "mjpeg_viewers_per_stream"):
        gained = value(after, REFUSALS, limit=limit) - value(before, REFUSALS, limit=limit)
        assert gained == 1, limit
    with viewing(server, VIDEO, **admin):  # the places are free again
        pass


def _dialect_c2(body: Any) -> None:
    assert body["error"]["status"] == 413
    assert body["error"]["code"] == "body_too_large"


def _dialect_fleet(body: Any) -> None:
    assert body == {"httpError": 413, "message": body["message"]}


def _dialect_house(body: Any) -> None:
    assert body["statusCode"] == 413
    assert body["error"] == "Request Entity Too Large"


def _dialect_gateway(body: Any) -> None:
    [log] = body  # every Gateway answer is an array of messages (issue 18)
    assert log["Topic"]["Type"] == "Log"
    _dialect_house(log["Message"]["Value"])


def _dialect_streams(body: Any) -> None:
    assert set(body) == {"detail"}


FACES = [
    ("/api", _dialect_c2),
    ("/nodes/{machine}/api", _dialect_c2),
    ("/api/v1/webhooks", _dialect_fleet),
    ("/accounts", _dialect_house),
    ("/oauth/token", _dialect_house),
    ("/gateway/24.1.0/publish", _dialect_gateway),
    (f"/cameras/{MXID}/streams/CAM_A/control", _dialect_streams),
]


@pytest.mark.parametrize(("path", "dialect"), FACES, ids=[path for path, _ in FACES])
@pytest.mark.parametrize("chunked", [False, True], ids=["length", "chunked"])
def test_request_body_size_in_each_dialect(
    server: InProcessServer, path: str, dialect: Any, chunked: bool
) -> None:
    """Every face refuses a body over ``max_body_bytes`` with 413 in its own error body
    (declared length or chunked), changes nothing, and counts the refusal."""
    path = path.replace("{machine}", server.app.state.node.settings.machine_name)
    before = scrape(server)
    content: Any = iter([BIG[:1000], BIG[1000:]]) if chunked else BIG
    with server.client(auth=("admin", server.admin_password)) as http:
        gain = http.get("/api").json()["gain"]
        assert gain != 23
        response = http.post(path, content=content, headers={"content-type": "application/json"})
        assert response.status_code == 413, response.text
        assert "1024 bytes" in response.text
        dialect(response.json())
        # Nothing was applied, and the server answers the next request.
        assert http.get("/api").json()["gain"] == gain
    after = scrape(server)
    key = {"limit": "request_body_bytes"}
    assert value(after, REFUSALS, **key) - value(before, REFUSALS, **key) == 1


def test_body_within_the_limit_passes(server: InProcessServer) -> None:
    with server.client(auth=("admin", server.admin_password)) as http:
        chunked = iter([b'{"gain":', b" 9}"])
        answer = http.post("/api", content=chunked, headers={"content-type": "application/json"})
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"gain": 9}


async def close_code(ws: ClientConnection) -> int | None:
    """The code the server closed with (the messages before it are read and dropped)."""
    try:
        while True:
            await receive_json(ws)
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd is not None else None


def _ws_url(server: InProcessServer) -> str:
    return server.url.replace("http://", "ws://") + "/api"


@pytest.mark.parametrize(
    "message",
    [
        '{"gain": 5, "pad": "' + "a" * 1100 + '"}',
        # 700 characters, but 1,400 bytes in UTF-8: the cap is in bytes.
        '{"gain": 5, "pad": "' + "\u00e9" * 700 + '"}',
        b"\x00" * 2000,
    ],
    ids=["text", "multibyte", "binary"],
)
async def test_websocket_message_size(server: InProcessServer, message: str | bytes) -> None:
    """A message over ``ws_max_message_bytes`` (below uvicorn's ceiling) gets the c2
    error message, then the close code 1009; nothing is applied; it is counted."""
    key = {"limit": "websocket_message_bytes"}
    before = value(scrape(server), REFUSALS, **key)
    with server.client(auth=("admin", server.admin_password)) as http:
        gain = http.get("/api").json()["gain"]
    assert gain != 5
    ws = await open_api(_ws_url(server), server.token)
    try:
        await wait_for_key(ws, "gain")
        # A message within the limit is served as ever.
        await ws.send('{"get": ["gain"]}')
        assert (await wait_for_key(ws, "gain"))["gain"] == gain
        await ws.send(message)
        error = await wait_for_key(ws, "error")
        assert error["error"]["code"] == "message_too_large"
        assert "1024 bytes" in error["error"]["message"]
        assert await close_code(ws) == 1009
    finally:
        await ws.close()
    with server.client(auth=("admin", server.admin_password)) as http:
        assert http.get("/api").json()["gain"] == gain
    assert value(scrape(server), REFUSALS, **key) - before == 1


async def test_websocket_frame_above_the_ceiling_is_cut_by_the_server(
    server: InProcessServer,
) -> None:
    """Past four times the setting the HTTP server closes (1009) before buffering the
    frame; camnet never sees it, and keeps serving."""
    ws = await open_api(_ws_url(server), server.token)
    try:
        await wait_for_key(ws, "gain")
        await ws.send("a" * (4 * 1024 + 1))
        assert await close_code(ws) == 1009
    finally:
        await ws.close()
    with server.client(auth=("admin", server.admin_password)) as http:
        assert http.get("/api").status_code == 200


def _gained(before: Any, after: Any, limit: str) -> float:
    return value(after, REFUSALS, limit=limit) - value(before, REFUSALS, limit=limit)


def test_page_size_in_each_dialect(server: InProcessServer) -> None:
    """``max_page_size`` (5 here) is the largest page; a larger one is refused in the
    dialect's error body (fleet 422, house 400 with ``validation``) and counted."""
    before = scrape(server)
    with server.client(auth=("admin", server.admin_password)) as http:
        # (A webhook's deliveries are paged by the same code.)
        devices = "/api/v1/devices"
        assert http.get(devices, params={"per_page": 5}).status_code == 200
        assert http.get(devices).json()["meta"]["per_page"] == 5, "the default fits too"
        refused = http.get(devices, params={"per_page": 6})
        assert refused.status_code == 422, refused.text
        message = "per_page must be at most 5, not 6"
        assert refused.json() == {"httpError": 422, "message": message}
        for path in ("/data/recordings", "/data/tags"):
            assert http.get(path, params={"perPage": 5}).status_code == 200
            refused = http.get(path, params={"perPage": 6})
            assert refused.status_code == 400, refused.text
            body = refused.json()
            assert body["statusCode"] == 400
            assert "perPage" in body["validation"]
            # A malformed value is a plain validation error, not a limit.
            assert http.get(path, params={"perPage": "x"}).status_code == 400
    assert _gained(before, scrape(server), "page_size") == 3


def test_concurrent_fleet_image_requests(tmp_path_factory: pytest.TempPathFactory) -> None:
    """While ``fleet_max_concurrent_images`` pictures are being taken (a camera that
    hangs), another request is the fleet 429 with ``Retry-After``, stores nothing, and is
    counted; once the camera answers again requests are taken again."""
    camera = HangingCamera()
    try:
        with inprocess_server(
            tmp_path_factory.mktemp("images"),
            camera_source="opencv",
            camera0_opencv=camera.url,
            fleet_max_concurrent_images=2,
        ) as running:
            _image_requests_are_capped(running, camera)
    finally:
        camera.hang_up()


def _image_requests_are_capped(server: InProcessServer, camera: HangingCamera) -> None:
    name = server.app.state.node.control_unit.name
    before = scrape(server)
    with server.client(auth=("admin", server.admin_password)) as http:
        devices = http.get("/api/v1/devices").json()["data"]
        uuid = next(d["uuid"] for d in devices if d["name"] == name)
        image = f"/api/v1/devices/{uuid}/image"
        taken = [http.post(image) for _ in range(2)]
        assert [r.status_code for r in taken] == [200, 200], [r.text for r in taken]
        busy = http.post(image)
        assert busy.status_code == 429, busy.text
        assert busy.headers["retry-after"] == "1"
        assert busy.json()["httpError"] == 429
        assert "2 image requests" in busy.json()["message"]
        # The links of the requests under way answer "not yet", as ever.
        pending = http.get(taken[0].json()["data"][0].removeprefix(server.url))
        assert pending.status_code == 503, pending.text
        assert _gained(before, scrape(server), "fleet_concurrent_images") == 1
        # The camera gives up: the pictures under way end (a no-signal card or no frame),
        # their links stop saying "not yet", and the places are free again (the device
        # itself is now offline: 409, no longer 429).
        camera.hang_up()
        link = taken[0].json()["data"][0].removeprefix(server.url)
        deadline = time.monotonic() + 30
        while (done := http.get(link)).status_code == 503:
            assert time.monotonic() < deadline, done.text
            time.sleep(0.2)
        assert done.status_code in (200, 504), done.text
        while (again := http.post(image)).status_code == 429:
            assert time.monotonic() < deadline, again.text
            time.sleep(0.2)
        assert again.status_code in (200, 409), again.text
