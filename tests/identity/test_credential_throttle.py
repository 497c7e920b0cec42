"""Issue 17 item 3: every path that checks a password takes the same failure budgets as
``/oauth/token`` (per source address, per username), and a lock-out on one path holds on
all of them. Each refusal is a 429 with ``Retry-After`` in the path's own error body."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from camnet.identity.permissions import Role
from camnet.identity.users import UserRepository
from camnet.store.database import Database
from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server

USER, PASSWORD, EMAIL = "guard", "guard-password-1", "guard@example.com"


def _seed_user(data_dir: Path) -> None:
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    try:
        UserRepository(database.engine).create(USER, Role.OPERATOR, PASSWORD, email=EMAIL)
    finally:
        database.close()


Attempt = Callable[[httpx.Client, str, str], httpx.Response]


def c2_basic(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.get("/api", params={"get": "[light0]"}, headers=basic(user, password))


def c2_query(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.get("/api", params={"get": "[light0]", "user": user, "password": password})


def streams(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.get("/cameras/anything/streams/", headers=basic(user, password))


def gallery(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.get("/data/recordings", headers=basic(user, password))


def gateway(http: httpx.Client, user: str, password: str) -> httpx.Response:
    params = {"Type": "Get", "Target": "x-C2", "Name": "State.light0"}
    return http.get("/gateway/v1/publish", params=params, headers=basic(user, password))


def fleet_login(http: httpx.Client, user: str, password: str) -> httpx.Response:
    email = EMAIL if user == USER else f"{user}@example.com"
    return http.post("/api/v1/auth/login", json={"email": email, "password": password})


def ui_sign_in(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.post("/ui/session", json={"username": user, "password": password})


def pauth(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.post("/pauth/token", json={"username": user, "password": password})


def _c2_body(body: Any) -> bool:
    return bool(body["error"]["status"] == 429)


def _house_body(body: Any) -> bool:
    return bool(body["statusCode"] == 429)


def _gateway_body(body: Any) -> bool:
    """The Gateway answers even its errors as an array holding one Log (issue 18)."""
    return bool(body[0]["Message"]["Value"]["statusCode"] == 429)


def _fleet_body(body: Any) -> bool:
    return bool(body["httpError"] == 429)


PATHS: dict[str, tuple[Attempt, Callable[[Any], bool]]] = {
    "c2 Basic": (c2_basic, _c2_body),
    "c2 query": (c2_query, _c2_body),
    "streams": (streams, _house_body),
    "gallery": (gallery, _house_body),
    "gateway": (gateway, _gateway_body),
    "fleet login": (fleet_login, _fleet_body),
    "dashboard sign-in": (ui_sign_in, _house_body),
    "pauth": (pauth, _house_body),
}


def _assert_throttled(response: httpx.Response, body_ok: Callable[[Any], bool]) -> None:
    assert response.status_code == 429, response.text
    assert int(response.headers["retry-after"]) >= 1
    assert body_ok(response.json()), response.text


@pytest.mark.parametrize("name", list(PATHS))
def test_each_path_takes_the_per_address_failure_budget(tmp_path: Path, name: str) -> None:
    attempt, body_ok = PATHS[name]
    hold = 0.3
    with (
        inprocess_server(tmp_path, token_failures_per_minute=3, token_failure_hold=hold) as server,
        server.client() as http,
    ):
        # Three unknown users, three failures: the address's budget for this minute.
        for n in range(3):
            status = attempt(http, f"nobody{n}", "wrong").status_code
            assert status in (400, 401), (name, status)
        # The fourth is refused before any password is checked, even a right one, and
        # the refusal is held first (the tarpit), its dialect's body unchanged.
        started = time.monotonic()
        _assert_throttled(attempt(http, "admin", server.admin_password), body_ok)
        assert time.monotonic() - started >= hold - 0.02, name
        server.clock.advance(61)
        assert attempt(http, "nobody9", "wrong").status_code in (400, 401)


def _lock_out(server: InProcessServer, http: httpx.Client, attempt: Attempt) -> None:
    """Four failures for USER: the fourth starts a lock-out (backoff after 3)."""
    for n in range(4):
        assert attempt(http, USER, f"guess-{n}").status_code in (400, 401)


@pytest.mark.parametrize(
    ("locked_on", "tried_on"),
    [
        ("c2 Basic", "pauth"),
        ("c2 query", "fleet login"),
        ("fleet login", "c2 Basic"),
        ("dashboard sign-in", "gateway"),
        ("pauth", "dashboard sign-in"),
        ("gallery", "streams"),
    ],
)
def test_a_lock_out_on_one_path_holds_on_all(tmp_path: Path, locked_on: str, tried_on: str) -> None:
    _seed_user(tmp_path)
    with (
        inprocess_server(
            tmp_path,
            token_failures_before_backoff=3,
            token_failures_per_minute=1000,
            token_failure_hold=0.1,
        ) as server,
        server.client() as http,
    ):
        _lock_out(server, http, PATHS[locked_on][0])
        attempt, body_ok = PATHS[tried_on]
        _assert_throttled(attempt(http, USER, PASSWORD), body_ok)
        # Another user is not locked out by USER's failures.
        if tried_on != "fleet login":  # (admin has no email to sign in with)
            assert attempt(http, "admin", server.admin_password).status_code not in (401, 429)
        server.clock.advance(1.1)
        assert attempt(http, USER, PASSWORD).status_code not in (401, 429)


def test_rtsp_basic_takes_the_per_address_failure_budget(tmp_path: Path) -> None:
    from tests.protocols.rtsp_support import raw_request, rtsp_camnet

    def describe(user: str, password: str) -> str:
        auth = basic(user, password)["Authorization"]
        return raw_request(
            port,
            f"DESCRIBE rtsp://127.0.0.1:{port}/ RTSP/1.0\r\nCSeq: 2\r\n"
            f"Authorization: {auth}\r\n\r\n",
        )

    # The node verifies its configured API token as it starts; a user it has never
    # verified makes the point.
    _seed_user(tmp_path)
    budget, hold = 3, 0.3
    with rtsp_camnet(tmp_path, token_failures_per_minute=budget, token_failure_hold=hold) as (
        _server,
        port,
    ):
        for n in range(budget):
            assert describe(f"nobody{n}", "wrong").startswith("RTSP/1.0 401"), n
        started = time.monotonic()
        refused = describe(USER, PASSWORD)  # right, but not verified before
        assert refused.startswith("RTSP/1.0 503"), refused
        assert "Retry-After:" in refused
        assert time.monotonic() - started >= hold - 0.02  # held, as on every path
