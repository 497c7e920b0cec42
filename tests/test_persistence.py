"""Persisted settings and users survive restarts, and a kill -9."""

from __future__ import annotations

import sqlite3

from tests.support import ServerProcess


def test_persisted_variables_survive_a_restart(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    changes = [
        ("brightness", "5"),
        ("changeVideoName", "cell3"),
        ("zoom0", "1234"),
        ("light0", "true"),
        ("timezone", "Europe/Berlin"),
        ("recordingFps", "60"),
    ]
    response = server.api(changes, user="admin")
    assert response.status_code == 200, response.text
    server.post({"pan0": {"x": 7.5, "y": -3}}, admin=True)
    before = server.api({"get": "[pan0]"}).json()["pan0"]

    server.restart()
    state = server.state()
    assert state["brightness"] == 5
    assert state["changeVideoName"] == "cell3"
    assert state["zoom0"] == 1234
    assert state["timezone"] == "Europe/Berlin"
    assert state["recordingFps"] == 60
    assert state["pan0"] == before
    assert state["light0"] is True
    assert state["record"] == "stop", "recording is live state and starts stopped"


def test_acknowledged_writes_survive_kill_9(fresh_server: ServerProcess) -> None:
    server = fresh_server.start()
    for value in range(-7, 8):
        assert server.api({"brightness": str(value)}).status_code == 200
    server.kill()
    server.start()
    assert server.state()["brightness"] == 7


def test_users_are_created_once_and_configured_secrets_never_printed(
    fresh_server: ServerProcess,
) -> None:
    server = fresh_server.start()
    first_output = "\n".join(server.output)
    assert "admin password : (as configured)" in first_output
    assert server.token not in first_output
    assert server.admin_password not in first_output
    server.restart()
    assert "camnet created its users" not in "\n".join(server.output)
    assert server.api().status_code == 200


def test_generated_secrets_are_random_and_stored_hashed(fresh_server: ServerProcess) -> None:
    server = fresh_server
    server.token = server.admin_password = ""
    server.env = {"CAMNET_API_TOKEN": "", "CAMNET_ADMIN_PASSWORD": ""}
    server.start()
    lines = {
        line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip()
        for line in server.output
        if ":" in line and "  " in line[:4]
    }
    token = lines["API-User token"]
    password = lines["admin password"]
    assert len(token) >= 24
    assert len(password) >= 24
    assert token != password
    server.token, server.admin_password = token, password
    assert server.api().status_code == 200
    assert server.api(user="admin").status_code == 200
    database = sqlite3.connect(server.data_dir / "camnet.sqlite3")
    try:
        rows = database.execute("SELECT name, secret_hash FROM users").fetchall()
        dump = "\n".join(database.iterdump())
    finally:
        database.close()
    assert {name for name, _ in rows} == {"admin", "API-User"}
    assert all(secret.startswith("$argon2id$") for _, secret in rows)
    assert token not in dump
    assert password not in dump
