"""Issue 17 item 7: a password change revokes the user's access tokens and OAuth and fleet
refresh tokens; the session that made the change keeps its own."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.identity.helpers import bearer
from tests.inprocess import inprocess_server
from tests.support import ADMIN_PASSWORD

USER, PASSWORD, EMAIL = "op", "op-password-1", "op@example.com"


def _pauth(http: httpx.Client, user: str, password: str) -> str:
    response = http.post("/pauth/token", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _live(http: httpx.Client, token: str) -> bool:
    status = http.get("/oauth/token", headers=bearer(token)).status_code
    assert status in (200, 401)
    return status == 200


def test_a_password_change_revokes_every_token_of_the_user(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        admin_token = _pauth(http, "admin", ADMIN_PASSWORD)
        admin = bearer(admin_token)
        new_user = {"username": USER, "password": PASSWORD, "email": EMAIL}
        assert http.post("/accounts/default/users", json=new_user, headers=admin).is_success
        client = http.post(
            "/accounts/default/clients",
            json={"clientId": "app", "grants": ["password", "refresh_token"]},
            headers=admin,
        )
        assert client.status_code == 201, client.text
        app = ("default.app", client.json()["clientSecret"])

        access = _pauth(http, USER, PASSWORD)
        oauth = http.post(
            "/oauth/token",
            data={"grant_type": "password", "username": USER, "password": PASSWORD},
            auth=app,
        ).json()
        fleet = http.post("/api/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
        fleet_tokens = fleet.json()["data"]
        assert all(
            _live(http, t) for t in (access, oauth["access_token"], fleet_tokens["access_token"])
        )

        changed = http.patch(
            f"/accounts/default/users/{USER}", json={"password": "op-password-2"}, headers=admin
        )
        assert changed.status_code == 200, changed.text

        for token in (access, oauth["access_token"], fleet_tokens["access_token"]):
            assert not _live(http, token)
        refreshed = http.post(
            "/oauth/token",
            data={"grant_type": "refresh_token", "refresh_token": oauth["refresh_token"]},
            auth=app,
        )
        assert refreshed.status_code == 400, refreshed.text
        fleet_refresh = http.post(
            "/api/v1/auth/refresh", json={"refresh_token": fleet_tokens["refresh_token"]}
        )
        assert fleet_refresh.status_code == 401, fleet_refresh.text
        assert _live(http, admin_token)  # another user's session is untouched
        assert _live(http, _pauth(http, USER, "op-password-2"))


def test_the_session_that_changes_its_own_password_keeps_itself(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        mine = _pauth(http, "admin", ADMIN_PASSWORD)
        other = _pauth(http, "admin", ADMIN_PASSWORD)
        changed = http.patch(
            "/accounts/default/users/admin",
            json={"password": "admin-password-2"},
            headers=bearer(mine),
        )
        assert changed.status_code == 200, changed.text
        assert _live(http, mine)
        assert not _live(http, other)
