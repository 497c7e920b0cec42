"""``camnet user|client|apikey`` list, disable/enable, delete and passwd, against a real
server that runs while the commands change its database (and one that is stopped)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from tests.support import ServerProcess, clean_env


def camnet(server: ServerProcess, *args: str, status: int = 0) -> Any:
    """Run a ``camnet`` command on the server's data directory; its ``--json`` answer."""
    done = subprocess.run(
        [sys.executable, "-m", "camnet", *args, "--data-dir", str(server.data_dir), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == status, done.stderr
    return json.loads(done.stdout) if status == 0 else done.stderr


def eventually(check: Callable[[], bool], what: str, seconds: float = 10.0) -> None:
    """Poll ``check`` until true: a running server follows database changes within ~1 s."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def status(server: ServerProcess, user: str, secret: str) -> int:
    return server.api({"get": "[light0]"}, user=user, secret=secret).status_code


def test_user_list_disable_enable_passwd_delete(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    camnet(
        server, "user", "add", "default\\ada", "--password", "first-password", "--role", "viewer"
    )
    listed = camnet(server, "user", "list")["users"]
    assert {(u["account"], u["username"], u["enabled"]) for u in listed} >= {
        ("default", "admin", True),
        ("default", "API-User", True),
        ("default", "ada", True),
    }
    assert all("secret" not in str(user) for user in listed)
    assert status(server, "ada", "first-password") == 200

    assert camnet(server, "user", "disable", "ada")["enabled"] is False
    eventually(lambda: status(server, "ada", "first-password") == 401, "disabled user refused")
    assert camnet(server, "user", "enable", "default\\ada")["enabled"] is True
    eventually(lambda: status(server, "ada", "first-password") == 200, "enabled user accepted")

    with server.client() as http:
        login = http.post("/pauth/token", json={"username": "ada", "password": "first-password"})
    assert login.status_code == 200, login.text
    bearer = {"Authorization": f"Bearer {login.json()['access_token']}"}

    def bearer_status() -> int:
        with server.client() as http:
            return http.get("/api", params={"get": "[light0]"}, headers=bearer).status_code

    assert bearer_status() == 200
    camnet(server, "user", "passwd", "ada", "--password", "second-password")
    eventually(lambda: status(server, "ada", "second-password") == 200, "new password works")
    # The server forgets the verified old password when it sees the change (within ~1 s).
    eventually(lambda: status(server, "ada", "first-password") == 401, "old password refused")
    # Issue 17 item 7: a token issued with the old password ends with it.
    eventually(lambda: bearer_status() == 401, "the old password's token revoked")

    generated = camnet(server, "user", "passwd", "ada", "--generate")["password"]
    assert len(generated) >= 24
    eventually(lambda: status(server, "ada", generated) == 200, "generated password works")

    assert camnet(server, "user", "delete", "ada") == {"deleted": "default\\ada"}
    eventually(lambda: status(server, "ada", generated) == 401, "deleted user refused")
    assert "ada" not in {u["username"] for u in camnet(server, "user", "list")["users"]}


def test_bad_requests_say_why_and_change_nothing(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    assert "no user default\\nobody" in camnet(server, "user", "disable", "nobody", status=1)
    assert "built in" in camnet(server, "user", "delete", "admin", status=1)
    assert "at least 8" in camnet(
        server, "user", "passwd", "admin", "--password", "short", status=1
    )
    assert "no client owner.none" in camnet(server, "client", "delete", "owner.none", status=1)
    assert "no live API key" in camnet(server, "apikey", "delete", "none", status=1)
    assert server.api(user="admin").status_code == 200


def test_admin_recovery_with_the_server_stopped_and_running(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    server.stop()
    recovered = camnet(server, "user", "passwd", "admin", "--generate")["password"]
    server.start()
    assert status(server, "admin", server.admin_password) == 401
    assert status(server, "admin", recovered) == 200

    again = camnet(server, "user", "passwd", "admin", "--password", "running-recovery")
    assert again["username"] == "admin"
    eventually(lambda: status(server, "admin", "running-recovery") == 200, "running recovery")


def token(server: ServerProcess, client: str, secret: str) -> httpx.Response:
    with server.client() as http:
        return http.post(
            "/oauth/token", auth=(client, secret), data={"grant_type": "client_credentials"}
        )


def test_client_and_apikey_list_and_delete(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    camnet(server, "client", "add", "owner.app", "--secret", "app-secret-1")
    issued = token(server, "owner.app", "app-secret-1")
    assert issued.status_code == 200, issued.text
    access = issued.json()["access_token"]
    clients = camnet(server, "client", "list")["clients"]
    assert [(c["owner"], c["clientId"]) for c in clients] == [("owner", "app")]
    assert camnet(server, "client", "list", "--owner", "default")["clients"] == []

    assert camnet(server, "client", "delete", "owner.app") == {"deleted": "owner.app"}
    assert camnet(server, "client", "list")["clients"] == []
    assert token(server, "owner.app", "app-secret-1").status_code == 401

    def verified() -> int:
        with server.client() as http:
            headers = {"Authorization": f"Bearer {access}"}
            return http.get("/oauth/token", headers=headers).status_code

    eventually(lambda: verified() == 401, "a deleted client's token stops working")

    key = camnet(server, "apikey", "add", "robot")["key"]
    keys = camnet(server, "apikey", "list")["apikeys"]
    assert [(k["account"], k["name"], k["revoked"]) for k in keys] == [("default", "robot", None)]

    def with_key() -> int:
        with server.client() as http:
            return http.get("/api/v1/devices", headers={"X-API-Key": key}).status_code

    assert with_key() == 200
    assert camnet(server, "apikey", "delete", "robot")["revoked"] == "robot"
    eventually(lambda: with_key() == 401, "a deleted API key stops working")
    assert camnet(server, "apikey", "list")["apikeys"][0]["revoked"] is not None
