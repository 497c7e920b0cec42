"""Issue 17 item 8: ``/metrics`` needs the documented ``metrics`` permission: the node's
admins hold it, anyone else only when granted ``metrics:node:read`` explicitly (a role's
``*:*:read`` does not count); other tenants never see the node's series."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
from sqlalchemy import insert, select

from camnet.store import tables
from camnet.store.database import Database
from tests.inprocess import InProcessServer, inprocess_server
from tests.support import ADMIN_PASSWORD


def _user(admin: httpx.Client, account: str, name: str, role: str) -> None:
    body = {"username": name, "password": f"{name}-password-1", "role": role}
    response = admin.post(f"/accounts/{account}/users", json=body)
    assert response.status_code == 201, response.text


def _scrape(server: InProcessServer, user: str, password: str) -> httpx.Response:
    with server.client(auth=(user, password)) as http:
        return http.get("/metrics")


def _grant(data_dir: Path, name: str, action: str) -> None:
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    try:
        with database.engine.begin() as connection:
            user_id = connection.execute(
                select(tables.users.c.id).where(tables.users.c.name == name)
            ).scalar_one()
            connection.execute(
                insert(tables.permissions).values(
                    subject_kind="user", subject_id=user_id, tenant="default", action=action
                )
            )
    finally:
        database.close()


def test_metrics_need_the_metrics_permission(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path) as server,
        server.client(auth=("admin", ADMIN_PASSWORD)) as admin,
    ):
        assert admin.post("/accounts", json={"name": "other"}).status_code == 201
        _user(admin, "default", "op", "operator")
        _user(admin, "default", "watcher", "viewer")
        _user(admin, "other", "boss", "admin")
        assert _scrape(server, "admin", ADMIN_PASSWORD).status_code == 200
        for user in ("op", "watcher", "other\\boss"):
            refused = _scrape(server, user, f"{user.split(chr(92))[-1]}-password-1")
            assert refused.status_code == 403, (user, refused.text)
            assert refused.json()["statusCode"] == 403
            assert "camnet_" not in refused.text
        refused = _scrape(server, "API-User", server.token)
        assert refused.status_code == 403

        _grant(tmp_path, "watcher", "metrics:node:read")
        with server.client(auth=("watcher", "watcher-password-1")) as http:
            # The grant is seen within the identity poll (another process wrote it).
            deadline = time.monotonic() + 10
            while http.get("/metrics").status_code != 200:
                assert time.monotonic() < deadline, "the metrics grant was never honoured"
                time.sleep(0.1)
