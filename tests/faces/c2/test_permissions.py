"""Per-user read and write permissions, seen through HTTP and the WebSocket."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faces.c2.ws_support import collect, open_api, receive_json, wait_for_key
from tests.support import ServerProcess


@pytest.fixture(scope="module")
def restricted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """API-User may read light0, light1, record, pan0 and write only light0."""
    process = ServerProcess(
        tmp_path_factory.mktemp("restricted"),
        env={
            "CAMNET_API_USER_READ": "light0,light1,record,pan0",
            "CAMNET_API_USER_WRITE": "light0,light1",
        },
    )
    # light1 is writable but the test below narrows writing to light0 via the file.
    config = Path(process.data_dir) / "camnet.toml"
    process.data_dir.mkdir(parents=True, exist_ok=True)
    config.write_text('api_user_write = ["light0"]\n')
    process.args = ("--config", str(config))
    process.env.pop("CAMNET_API_USER_WRITE")
    process.start()
    yield process
    process.stop()


def test_each_user_reads_what_it_may(restricted: ServerProcess) -> None:
    api_user = restricted.api().json()
    assert set(api_user) == {"light0", "light1", "record", "pan0"}
    admin = restricted.api(user="admin").json()
    assert len(admin) > 50
    assert "hostname" in admin
    assert restricted.api({"get": "[hostname,light0]"}).json() == {"light0": False}


def test_writes_the_user_may_not_make_change_nothing(restricted: ServerProcess) -> None:
    response = restricted.api([("light0", "true"), ("light1", "true")])
    assert response.status_code == 403
    assert response.json()["error"]["details"] == [
        {"key": "light1", "reason": "this user may not write it"}
    ]
    assert restricted.api(user="admin").json()["light0"] is False
    assert restricted.api(user="admin").json()["light1"] is False
    assert restricted.api({"light0": "true"}).json() == {"light0": True}
    assert restricted.api({"light1": "true"}, user="admin").json() == {"light1": True}


def test_default_api_user_cannot_change_server_settings(server: ServerProcess) -> None:
    for key, value in (
        ("httpPort", "81"),
        ("timezone", "Europe/Berlin"),
        ("mjpgStreamIsOpen", "true"),
        ("recordingStorage", "x"),
    ):
        assert server.api({key: value}).status_code == 403, key
    assert server.api({"light0": "true"}).status_code == 200
    # (httpsPort: HTTPS is off, so the write only stores it; moving HTTP, the request's
    # own listener, would be refused — tests/protocols.)
    assert server.api({"httpsPort": "8443"}, user="admin").json() == {"httpsPort": 8443}


async def test_unreadable_variables_never_reach_the_socket(restricted: ServerProcess) -> None:
    async with (
        await open_api(restricted.ws_url, restricted.token) as api_user,
        await open_api(restricted.ws_url, restricted.admin_password, "admin") as admin,
    ):
        assert set(await receive_json(api_user)) == {"light0", "light1", "record", "pan0"}
        assert "hostname" in await receive_json(admin)
        await asyncio.to_thread(
            restricted.api, {"brightness": "5", "light1": "false"}, user="admin"
        )
        assert (await wait_for_key(admin, "brightness"))["brightness"] == 5
        seen = await collect(api_user, 1.0)
    assert {"light1": False} in seen
    for message in seen:
        assert set(message) <= {"light0", "light1", "record", "pan0"}, message
