"""Issue 17 item 4 across nodes: two servers on one PostgreSQL database; a credential
ended on one node closes the long-lived sessions it opened on the other (through that
node's poll of the shared database's identity change counters)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from websockets.asyncio.client import connect

from tests.identity.helpers import basic, bearer
from tests.identity.test_live_sessions import _closed_code, _still_open, _ws_url
from tests.inprocess import inprocess_server
from tests.support import ADMIN_PASSWORD

SETTINGS: dict[str, Any] = {"stereo_cameras": [], "second_head": False}


async def test_a_revoke_on_one_node_closes_a_socket_on_the_other(
    pg_url: str, tmp_path: Path
) -> None:
    with (
        inprocess_server(tmp_path / "a", db=pg_url, machine_name="livea", **SETTINGS) as a,
        inprocess_server(tmp_path / "b", db=pg_url, machine_name="liveb", **SETTINGS) as b,
    ):
        with a.client() as http:
            login = http.post(
                "/pauth/token", json={"username": "admin", "password": ADMIN_PASSWORD}
            )
            token = login.json()["access_token"]
        async with (
            connect(_ws_url(a), additional_headers=bearer(token)) as by_token,
            connect(_ws_url(a), additional_headers=basic("API-User", a.token)) as by_secret,
        ):
            await _still_open(by_token)
            await _still_open(by_secret)
            with b.client(auth=("admin", ADMIN_PASSWORD)) as admin:
                assert admin.post("/oauth/revoke", data={"token": token}).status_code == 200
            assert await _closed_code(by_token) == 1008
            await _still_open(by_secret)
            with b.client(auth=("admin", ADMIN_PASSWORD)) as admin:
                changed = admin.patch(
                    "/accounts/default/users/API-User", json={"password": "a-new-token-123"}
                )
                assert changed.status_code == 200, changed.text
            assert await _closed_code(by_secret) == 1008
