"""Issue 17 item 6: a dashboard cookie changes state only through a non-safe method with
the CSRF header; HEAD never changes anything, whoever asks. (The c2 seed's writes by
``GET /api?name=value`` stay for callers that present credentials themselves.)"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.inprocess import InProcessServer, inprocess_server
from tests.support import ADMIN_PASSWORD

SET_LIGHT0_OFF = {"Type": "Set", "Target": "cell7-C2", "Name": "State.light0", "Value": "false"}


@contextmanager
def _signed_in(tmp_path: Path) -> Iterator[tuple[InProcessServer, httpx.Client, str, str]]:
    """A server, an admin Basic client, and a dashboard session: (cookie header, csrf)."""
    with inprocess_server(tmp_path, machine_name="cell7") as server:
        with server.client() as http:
            signed_in = http.post(
                "/ui/session", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            assert signed_in.status_code == 200, signed_in.text
            cookie = f"camnet_session={http.cookies['camnet_session']}"
        with server.client(auth=("admin", ADMIN_PASSWORD)) as admin:
            assert admin.post("/api", json={"light0": True}).status_code == 200
            yield server, admin, cookie, signed_in.json()["csrf"]


def _light0(admin: httpx.Client) -> bool:
    value: bool = admin.get("/api", params={"get": "[light0]"}).json()["light0"]
    return value


def test_a_cookie_cannot_write_through_get(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (server, admin, cookie, _csrf), server.client() as http:
        refused = http.get("/api", params={"light0": "false"}, headers={"Cookie": cookie})
        assert refused.status_code == 403, refused.text
        assert refused.json()["error"]["code"] == "csrf"
        assert _light0(admin) is True
        # Reading with the cookie alone is fine.
        assert http.get("/api", params={"get": "[light0]"}, headers={"Cookie": cookie}).is_success


def test_a_cookie_writes_by_post_with_the_csrf_header(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (server, admin, cookie, csrf), server.client() as http:
        headers = {"Cookie": cookie, "X-Camnet-CSRF": csrf}
        assert http.post("/api", json={"light0": False}, headers=headers).status_code == 200
        assert _light0(admin) is False


def test_head_never_writes(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (server, admin, cookie, _csrf), server.client() as http:
        by_cookie = http.head("/api", params={"light0": "false"}, headers={"Cookie": cookie})
        assert by_cookie.status_code in (403, 405)
        by_basic = admin.head("/api", params={"light0": "false"})
        assert by_basic.status_code == 405
        assert "POST" in by_basic.headers["allow"]
        assert _light0(admin) is True
        # Basic credentials may still write with GET, as the c2 seed does.
        assert admin.get("/api", params={"light0": "false"}).status_code == 200
        assert _light0(admin) is False


def test_gateway_set_by_get_with_a_cookie_or_by_head_is_refused(tmp_path: Path) -> None:
    with _signed_in(tmp_path) as (server, admin, cookie, _csrf), server.client() as http:
        by_cookie = http.get(
            "/gateway/v1/publish", params=SET_LIGHT0_OFF, headers={"Cookie": cookie}
        )
        assert by_cookie.status_code == 403, by_cookie.text
        by_head = admin.head("/gateway/v1/publish", params=SET_LIGHT0_OFF)
        assert by_head.status_code == 405
        assert _light0(admin) is True
        # A Get by cookie reads, and Basic may still Set by GET (the vendor's form).
        read = {k: v for k, v in SET_LIGHT0_OFF.items() if k != "Value"} | {"Type": "Get"}
        got = http.get("/gateway/v1/publish", params=read, headers={"Cookie": cookie})
        assert got.status_code == 200, got.text
        assert admin.get("/gateway/v1/publish", params=SET_LIGHT0_OFF).status_code == 200
        assert _light0(admin) is False
