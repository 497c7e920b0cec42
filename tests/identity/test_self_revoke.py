"""Issue 17 item 13: revoking one's own token really revokes it, and ``DELETE
/ui/session`` signs out the session it is called with, cookie or bearer token."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.identity.helpers import basic, bearer
from tests.inprocess import inprocess_server
from tests.support import ADMIN_PASSWORD

USER, PASSWORD = "op", "op-password-1"


def _token(http: httpx.Client, user: str, password: str) -> str:
    response = http.post("/pauth/token", json={"username": user, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def _live(http: httpx.Client, token: str) -> bool:
    return http.get("/oauth/token", headers=bearer(token)).status_code == 200


def test_a_non_admin_revokes_their_own_token(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        admin = basic("admin", ADMIN_PASSWORD)
        body = {"username": USER, "password": PASSWORD, "role": "viewer"}
        assert http.post("/accounts/default/users", json=body, headers=admin).is_success
        mine, other = _token(http, USER, PASSWORD), _token(http, USER, PASSWORD)
        admins = _token(http, "admin", ADMIN_PASSWORD)

        # With one of their tokens, the other one.
        answer = http.post("/oauth/revoke", data={"token": other}, headers=bearer(mine))
        assert answer.status_code == 200
        assert not _live(http, other)
        # With their password, the token they hold.
        answer = http.post("/oauth/revoke", data={"token": mine}, headers=basic(USER, PASSWORD))
        assert answer.status_code == 200
        assert not _live(http, mine)
        # Someone else's token is not theirs to revoke (200 all the same, RFC 7009).
        answer = http.post("/oauth/revoke", data={"token": admins}, headers=basic(USER, PASSWORD))
        assert answer.status_code == 200
        assert _live(http, admins)


def test_delete_ui_session_with_a_bearer_token_revokes_it(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        token = _token(http, "admin", ADMIN_PASSWORD)
        out = http.delete("/ui/session", headers=bearer(token))
        assert out.status_code == 204
        assert not _live(http, token)


def test_delete_ui_session_with_a_password_says_there_is_nothing_to_end(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        out = http.delete("/ui/session", headers=basic("admin", ADMIN_PASSWORD))
        assert out.status_code == 400
        assert out.json()["statusCode"] == 400
