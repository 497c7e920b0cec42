"""camnet's own resources: tenancy, API keys, rate limits, and every error code of the
identity seed produced by a real request, each with the documented body."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from camnet.identity.permissions import Role
from tests.identity.helpers import basic, bearer, seed_records, token_request
from tests.inprocess import InProcessServer, inprocess_server

ALPHA_APP = ("alpha.app", "alpha-secret-0123")
BETA_APP = ("beta.app", "beta-secret-0123")
LIMITED_APP = ("alpha.limited", "limited-secret-0123")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("resources")
    seed_records(
        data_dir,
        accounts=("alpha", "beta"),
        users=(
            ("alpha", "boss", "alpha-boss-pw", Role.ADMIN),
            ("alpha", "watcher", "alpha-watch-pw", Role.VIEWER),
            ("beta", "boss", "beta-boss-pw", Role.ADMIN),
        ),
        clients=(
            ("alpha", "app", ALPHA_APP[1], ("client_credentials",)),
            ("beta", "app", BETA_APP[1], ("client_credentials",)),
        ),
    )
    with inprocess_server(data_dir, token_requests_per_minute=100_000) as running:
        yield running


@pytest.fixture
def http(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        yield client


def token_of(http: httpx.Client, credentials: tuple[str, str]) -> str:
    response = token_request(http, credentials, grant_type="client_credentials")
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def user_token(http: httpx.Client, username: str, password: str) -> str:
    response = http.post("/pauth/token", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def assert_error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["statusCode"] == status
    assert body["error"] == HTTPStatus(status).phrase
    assert isinstance(body["message"], str)
    assert body["message"]
    return body


def test_tenants_never_see_each_other(http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    beta_token = token_of(http, BETA_APP)
    assert http.get("/accounts/alpha/users", headers=alpha).status_code == 200
    assert [a["name"] for a in http.get("/accounts", headers=alpha).json()["accounts"]] == ["alpha"]
    for method, path, body in [
        ("GET", "/accounts/beta", None),
        ("GET", "/accounts/beta/users", None),
        ("GET", "/accounts/beta/users/boss", None),
        ("PATCH", "/accounts/beta/users/boss", {"enabled": False}),
        ("POST", "/accounts/beta/users", {"username": "mole", "password": "mole-password"}),
        ("GET", "/accounts/beta/clients", None),
        ("POST", "/accounts/beta/apikeys", {"name": "mole"}),
    ]:
        response = http.request(method, path, json=body, headers=alpha)
        assert_error(response, 404)
    # Revoking or introspecting another account's token does nothing and tells nothing.
    assert http.post("/oauth/revoke", data={"token": beta_token}, headers=alpha).status_code == 200
    assert http.get("/oauth/token", headers=bearer(beta_token)).status_code == 200
    seen = http.post("/oauth/introspect", data={"token": beta_token}, headers=alpha).json()
    assert seen == {"active": False}
    beta_boss = http.get("/accounts/beta/users/boss", headers=bearer(beta_token)).json()
    assert beta_boss["enabled"] is True


def test_api_keys_authenticate_until_revoked(http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    created = http.post("/accounts/alpha/apikeys", json={"name": "robot"}, headers=alpha)
    assert created.status_code == 201, created.text
    key = created.json()["key"]
    assert key.startswith("cnk_")
    assert "key" not in http.get("/accounts/alpha/apikeys", headers=alpha).json()["apikeys"][0]
    assert http.get("/accounts/alpha/users", headers={"X-API-Key": key}).status_code == 200
    as_header = http.get("/accounts/alpha", headers={"Authorization": f"ApiKey {key}"})
    assert as_header.status_code == 200
    assert_error(http.get("/accounts/beta", headers={"X-API-Key": key}), 404)
    assert http.delete("/accounts/alpha/apikeys/robot", headers=alpha).status_code == 204
    assert_error(http.get("/accounts/alpha/users", headers={"X-API-Key": key}), 401)


def test_rate_limit_headers_on_every_authenticated_response(
    server: InProcessServer, http: httpx.Client
) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    before = server.clock.now()  # the server's clock, not the wall clock: it is a ManualClock
    responses = [
        http.get("/accounts/alpha", headers=alpha),
        http.get("/accounts/alpha/users/nobody", headers=alpha),  # a 404 counts too
        http.get("/api", headers=basic("admin", server.admin_password)),
    ]
    remaining = []
    for response in responses:
        assert int(response.headers["x-ratelimit-limit"]) == 6000
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
        reset_ms = int(response.headers["x-ratelimit-reset"])
        assert before * 1000 < reset_ms <= (server.clock.now() + 60) * 1000
    assert remaining[1] == remaining[0] - 1  # one session, one service: one budget
    unauthenticated = http.get("/services/alpha")
    assert "x-ratelimit-limit" not in unauthenticated.headers


def test_429_past_the_limit_and_a_new_window_later(
    server: InProcessServer, http: httpx.Client
) -> None:
    admin = basic("admin", server.admin_password)
    created = http.post(
        "/accounts/alpha/clients", json={"clientId": "limited", "rateLimit": 3}, headers=admin
    )
    assert created.status_code == 201, created.text
    token = token_of(http, ("alpha.limited", created.json()["clientSecret"]))
    statuses = [http.get("/accounts/alpha", headers=bearer(token)).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = http.get("/accounts/alpha", headers=bearer(token))
    assert_error(refused, 429)
    assert refused.headers["x-ratelimit-remaining"] == "0"
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    server.clock.advance(60)
    assert http.get("/accounts/alpha", headers=bearer(token)).status_code == 200


def test_400_with_validation(http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    response = http.post(
        "/accounts/alpha/users", json={"username": "no spaces", "password": "short"}, headers=alpha
    )
    body = assert_error(response, 400)
    assert set(body["validation"]) == {"username", "password"}
    assert_error(http.post("/accounts/alpha/users", content=b"{", headers={
        **alpha, "Content-Type": "application/json"}), 400)  # fmt: skip


def test_401_403_404_405_406(http: httpx.Client) -> None:
    assert_error(http.get("/accounts/alpha"), 401)
    assert_error(http.get("/accounts/alpha", headers=bearer("0" * 64)), 401)
    watcher = bearer(user_token(http, "alpha\\watcher", "alpha-watch-pw"))
    assert http.get("/accounts/alpha/users", headers=watcher).status_code == 200
    forbidden = http.post(
        "/accounts/alpha/users",
        json={"username": "newbie", "password": "newbie-password"},
        headers=watcher,
    )
    assert_error(forbidden, 403)
    assert_error(http.get("/accounts/alpha/users/nobody", headers=watcher), 404)
    assert_error(http.get("/nothing/here", headers=watcher), 404)
    wrong_method = http.delete("/accounts/alpha/users/watcher", headers=watcher)
    assert_error(wrong_method, 405)
    assert set(wrong_method.headers["allow"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
        "PATCH",
    }
    not_acceptable = http.get(
        "/accounts/alpha", headers={**watcher, "Accept": "text/html, application/xml;q=0.9"}
    )
    assert_error(not_acceptable, 406)
    assert http.get("/accounts/alpha", headers={**watcher, "Accept": "*/*"}).status_code == 200


def test_412_415_422_on_a_versioned_user(http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    created = http.post(
        "/accounts/alpha/users",
        json={"username": "editor", "password": "editor-password", "email": "ed@example.test"},
        headers=alpha,
    )
    assert created.status_code == 201, created.text
    etag = created.headers["etag"]
    changed = http.patch(
        "/accounts/alpha/users/editor",
        json={"role": "viewer"},
        headers={**alpha, "If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["version"] == 2
    stale = http.patch(
        "/accounts/alpha/users/editor",
        json={"role": "admin"},
        headers={**alpha, "If-Match": etag},
    )
    assert_error(stale, 412)
    stale_body = http.patch(
        "/accounts/alpha/users/editor", json={"role": "admin", "version": 1}, headers=alpha
    )
    assert_error(stale_body, 412)
    assert http.get("/accounts/alpha/users/editor", headers=alpha).json()["role"] == "viewer"
    as_text = http.patch(
        "/accounts/alpha/users/editor",
        content=b"role=admin",
        headers={**alpha, "Content-Type": "text/plain"},
    )
    assert_error(as_text, 415)
    duplicate = http.post(
        "/accounts/alpha/users",
        json={"username": "editor", "password": "editor-password"},
        headers=alpha,
    )
    assert_error(duplicate, 422)
    taken_email = http.post(
        "/accounts/alpha/users",
        json={"username": "twin", "password": "twin-password", "email": "ed@example.test"},
        headers=alpha,
    )
    assert_error(taken_email, 422)


def test_500_from_a_corrupted_record(server: InProcessServer, http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    created = http.post(
        "/accounts/alpha/users",
        json={"username": "broken", "password": "broken-password"},
        headers=alpha,
    )
    assert created.status_code == 201
    with sqlite3.connect(server.data_dir / "camnet.sqlite3") as database:
        database.execute("UPDATE users SET role = 'no-such-role' WHERE name = 'broken'")
    response = http.get("/accounts/alpha/users/broken", headers=alpha)
    assert_error(response, 500)
    assert "traceback" not in response.text.lower()
    with sqlite3.connect(server.data_dir / "camnet.sqlite3") as database:
        database.execute("UPDATE users SET role = 'viewer' WHERE name = 'broken'")
    assert http.get("/accounts/alpha/users/broken", headers=alpha).status_code == 200


def test_502_when_the_database_does_not_answer(server: InProcessServer, http: httpx.Client) -> None:
    alpha = bearer(user_token(http, "alpha\\boss", "alpha-boss-pw"))
    locked = threading.Event()
    release = threading.Event()

    def hold_the_write_lock() -> None:
        database = sqlite3.connect(server.data_dir / "camnet.sqlite3", isolation_level=None)
        database.execute("BEGIN EXCLUSIVE")
        locked.set()
        release.wait(30)
        database.execute("ROLLBACK")
        database.close()

    holder = threading.Thread(target=hold_the_write_lock)
    holder.start()
    try:
        assert locked.wait(10)
        response = http.post(
            "/accounts/alpha/users",
            json={"username": "blocked", "password": "blocked-password"},
            headers=alpha,
            timeout=30,
        )
    finally:
        release.set()
        holder.join()
    assert_error(response, 502)
    assert http.get("/accounts/alpha/users/blocked", headers=alpha).status_code == 404


def test_503_in_maintenance_mode(server: InProcessServer, http: httpx.Client) -> None:
    admin = basic("admin", server.admin_password)
    watcher = bearer(user_token(http, "alpha\\watcher", "alpha-watch-pw"))
    assert_error(http.put("/maintenance", json={"active": True}, headers=watcher), 403)
    try:
        assert http.put("/maintenance", json={"active": True}, headers=admin).json() == {
            "active": True
        }
        offline = http.get("/accounts/alpha", headers=watcher)
        assert_error(offline, 503)
        assert int(offline.headers["retry-after"]) > 0
        c2 = http.get("/api", headers=admin)
        assert c2.status_code == 503
        assert c2.json()["error"]["code"] == "maintenance"
        # Signing in still works, so the admin can get a token and switch it off.
        assert token_request(http, ALPHA_APP, grant_type="client_credentials").status_code == 200
    finally:
        assert http.put("/maintenance", json={"active": False}, headers=admin).status_code == 200
    assert http.get("/accounts/alpha", headers=watcher).status_code == 200
