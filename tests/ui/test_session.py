"""The dashboard's cookie session at the one policy point: HttpOnly/SameSite cookie,
CSRF and Origin checks on every face the dashboard calls, sign-out revokes, security
headers. Real server on loopback, real HTTP and WebSocket clients."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
import websockets

from camnet.identity.browser import COOKIE_NAME
from tests.inprocess import InProcessServer, inprocess_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("ui-session")) as running:
        yield running


def sign_in(server: InProcessServer, client: httpx.Client) -> str:
    """Sign ``client`` in as the admin; the session's CSRF value."""
    answer = client.post(
        "/ui/session", json={"username": "admin", "password": server.admin_password}
    )
    assert answer.status_code == 200, answer.text
    csrf: str = answer.json()["csrf"]
    return csrf


def test_sign_in_sets_a_strict_http_only_cookie(server: InProcessServer) -> None:
    with server.client() as http:
        answer = http.post(
            "/ui/session", json={"username": "admin", "password": server.admin_password}
        )
        assert answer.status_code == 200
        cookie = answer.headers["set-cookie"]
        assert cookie.startswith(f"{COOKIE_NAME}=")
        assert "HttpOnly" in cookie
        assert "SameSite=strict" in cookie
        assert "Path=/" in cookie
        assert "Secure" not in cookie  # plain HTTP here; set when the request came over HTTPS
        token = cookie.split(";")[0].split("=", 1)[1]
        body = answer.json()
        assert body["user"] == "admin"
        assert body["administrator"] is True
        assert token not in answer.text  # the token is only in the cookie
        assert answer.headers["cache-control"] == "no-store"


def test_wrong_password_is_refused_in_the_house_error_body(server: InProcessServer) -> None:
    with server.client() as http:
        answer = http.post("/ui/session", json={"username": "admin", "password": "nope"})
        assert answer.status_code == 401
        assert answer.json()["message"] == "the username or password is wrong"
        assert "set-cookie" not in answer.headers
        bad = http.post("/ui/session", content=b"{", headers={"content-type": "application/json"})
        assert bad.status_code == 400
        missing = http.post("/ui/session", json={"username": "admin"})
        assert missing.status_code == 400
        assert missing.json()["validation"] == {"password": "required, a non-empty string"}


def test_cookie_reads_on_every_face_and_writes_need_the_csrf_header(
    server: InProcessServer,
) -> None:
    with server.client() as client:
        csrf = sign_in(server, client)
        assert client.get("/ui/session").json()["csrf"] == csrf
        assert client.get("/api").status_code == 200  # c2
        assert client.get("/api/v1/devices").status_code == 200  # fleet
        assert client.get("/data/recordings").status_code == 200  # gallery
        assert client.get("/media/status").status_code == 200  # media
        assert client.get("/accounts/default/users").status_code == 200  # identity
        assert client.get("/ui/api/history").status_code == 200
        # A write without the CSRF header is refused before any route code runs.
        forged = client.post("/api", json={"light0": True})
        assert forged.status_code == 401
        assert client.get("/api").json()["light0"] is False
        wrong = client.post("/api", json={"light0": True}, headers={"X-Camnet-CSRF": "0" * 64})
        assert wrong.status_code == 401
        done = client.post("/api", json={"light0": True}, headers={"X-Camnet-CSRF": csrf})
        assert done.status_code == 200
        assert done.json()["light0"] is True
        tag = client.post("/data/tags", json={"title": "csrf"}, headers={"X-Camnet-CSRF": csrf})
        assert tag.status_code == 201
        # Another site's page: its Origin is refused even with the right header.
        cross = client.post(
            "/api",
            json={"light0": False},
            headers={"X-Camnet-CSRF": csrf, "Origin": "http://evil.example"},
        )
        assert cross.status_code == 401
        cross_read = client.get("/api", headers={"Origin": "http://evil.example"})
        assert cross_read.status_code == 401
        same = client.post(
            "/api", json={"light0": False}, headers={"X-Camnet-CSRF": csrf, "Origin": server.url}
        )
        assert same.status_code == 200


async def test_websocket_takes_the_cookie_only_from_this_origin(server: InProcessServer) -> None:
    with server.client() as client:
        sign_in(server, client)
        token = client.cookies[COOKIE_NAME]
    url = server.url.replace("http://", "ws://") + "/api"
    cookie = {"Cookie": f"{COOKIE_NAME}={token}"}
    async with websockets.connect(url, additional_headers=cookie, origin=server.url) as ws:  # type: ignore[arg-type]
        state = json.loads(await ws.recv())
        assert "light0" in state
    for origin in (None, "http://evil.example"):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=cookie, origin=origin):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 401


def test_sign_out_revokes_the_session(server: InProcessServer) -> None:
    with server.client() as client:
        csrf = sign_in(server, client)
        token = client.cookies[COOKIE_NAME]
        refused = client.delete("/ui/session")  # a write: the CSRF header is required
        assert refused.status_code == 401
        answer = client.delete("/ui/session", headers={"X-Camnet-CSRF": csrf})
        assert answer.status_code == 204
        assert f'{COOKIE_NAME}=""' in answer.headers["set-cookie"]
    with server.client() as other:
        other.cookies.set(COOKIE_NAME, token)
        assert other.get("/api").status_code == 401
        assert other.get("/ui/session").status_code == 401


def test_pages_carry_security_headers(server: InProcessServer) -> None:
    with server.client() as http:
        page = http.get("/")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        csp = page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert page.headers["x-content-type-options"] == "nosniff"
        script = http.get("/ui/static/app.js")
        assert script.headers["content-type"].startswith("text/javascript")
        assert http.get("/ui/static/nothing.js").status_code == 404
        # Only plain names in the folder: a path outside it is not even a dashboard route.
        assert http.get("/ui/static/..%2Fsession.py").status_code == 401
        assert http.get("/ui/api/history").status_code == 401


def test_schema_is_the_devices_own(server: InProcessServer) -> None:
    with server.client() as client:
        sign_in(server, client)
        devices = client.get("/ui/api/devices").json()
        unit = next(d for d in devices if d["kind"] == "control-unit")
        schema = client.get(f"/ui/api/devices/{unit['name']}/schema").json()
        by_name = {v["name"]: v for v in schema["variables"]}
        assert by_name["light0"]["type"] == "bool"
        assert by_name["light0"]["access"] == "rw"
        assert by_name["redGain"]["range"] == [-128, 127]
        assert client.get("/ui/api/devices/nobody/schema").status_code == 404
        assert client.get("/ui/api/history?since=x").status_code == 400
        history = client.get("/ui/api/history").json()
        kinds = {s["kind"] for s in history["series"]}
        assert {"temperature", "pressure"} <= kinds
    with server.client(auth=("API-User", server.token)) as api_user:
        assert api_user.get("/ui/api/history").status_code in (403, 404)
