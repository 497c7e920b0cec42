"""Black-box tests of ``ws://…/api``, following the c2 seed's WebSocket API section."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.faces.c2.ws_support import collect, open_api, receive_json, wait_for_key
from tests.support import ServerProcess


async def test_first_message_is_the_whole_readable_state(server: ServerProcess) -> None:
    async with await open_api(server.ws_url, server.token) as ws:
        first = await receive_json(ws)
    http_state = server.api().json()
    assert set(first) == set(http_state)
    assert first["cam0Exists"] is True


async def test_unauthenticated_upgrade_is_401(server: ServerProcess) -> None:
    for query in ("", "?token=wrong", "?user=admin&token=" + server.token):
        with pytest.raises(InvalidStatus) as raised:
            async with connect(server.ws_url + query):
                pass
        assert raised.value.response.status_code == 401
        assert b"unauthorized" in raised.value.response.body


async def test_basic_authentication_on_upgrade(server: ServerProcess) -> None:
    auth = httpx.BasicAuth("admin", server.admin_password)
    header = auth._auth_header  # the Authorization value httpx would send
    async with connect(server.ws_url, additional_headers={"Authorization": header}) as ws:
        assert "light0" in await receive_json(ws)


async def test_http_change_reaches_two_clients(server: ServerProcess) -> None:
    server.api({"light0": "false"})
    async with (
        await open_api(server.ws_url, server.token) as first,
        await open_api(server.ws_url, server.token) as second,
    ):
        assert (await receive_json(first))["light0"] is False
        assert (await receive_json(second))["light0"] is False
        await asyncio.to_thread(server.api, {"light0": "true"})
        one = await wait_for_key(first, "light0")
        two = await wait_for_key(second, "light0")
    assert one == {"light0": True}
    assert two == {"light0": True}
    server.api({"light0": "false"})


async def test_changes_carry_only_the_changed_variables(server: ServerProcess) -> None:
    async with await open_api(server.ws_url, server.token) as ws:
        await receive_json(ws)
        await asyncio.to_thread(
            server.api, [("brightness", "3"), ("brightness", "-2"), ("sharpness", "9")]
        )
        message = await wait_for_key(ws, "brightness")
    assert message == {"brightness": -2, "sharpness": 9}


async def test_client_setters_are_applied_and_broadcast(server: ServerProcess) -> None:
    server.api({"light1": "false"})
    async with (
        await open_api(server.ws_url, server.token) as writer,
        await open_api(server.ws_url, server.token) as watcher,
    ):
        await receive_json(writer)
        await receive_json(watcher)
        await writer.send('{"light1": true}')
        # A delta may arrive merged with readings when the machine is busy: check the value.
        assert (await wait_for_key(watcher, "light1"))["light1"] is True
        assert (await wait_for_key(writer, "light1"))["light1"] is True
        await writer.send('{"pan1": {"x": 1e9}}')
        pan = await wait_for_key(watcher, "pan1")
        assert pan["pan1"]["x"] == 100.0
    assert server.api({"get": "[light1]"}).json() == {"light1": True}


async def test_get_over_the_socket(server: ServerProcess) -> None:
    async with await open_api(server.ws_url, server.token) as ws:
        await receive_json(ws)
        await ws.send('{"get": ["record", "light0"]}')
        reply = await wait_for_key(ws, "record")
    assert list(reply) == ["record", "light0"]


@pytest.mark.parametrize(
    "bad",
    [
        "not json",
        "[1,2]",
        '{"light0": "maybe", "light1": true}',
        '{"nope": 1, "light1": true}',
        '{"light1": true, "cam0Exists": false}',
        '{"light1": true, "get": "light0"}',
    ],
)
async def test_malformed_messages_get_an_error_and_the_socket_stays(
    server: ServerProcess, bad: str
) -> None:
    server.api({"light1": "false"})
    async with await open_api(server.ws_url, server.token) as ws:
        await receive_json(ws)
        await ws.send(bad)
        error = await wait_for_key(ws, "error")
        assert error["error"]["status"] in (400, 403)
        assert error["error"]["message"]
        await ws.send('{"get": ["light1"]}')
        assert (await wait_for_key(ws, "light1"))["light1"] is False


async def test_binary_frames_get_an_error(server: ServerProcess) -> None:
    async with await open_api(server.ws_url, server.token) as ws:
        await receive_json(ws)
        await ws.send(b'{"light1": true}')
        error = await wait_for_key(ws, "error")
        assert error["error"]["code"] == "binary_message"
        await ws.send('{"get": ["light1"]}')
        assert "light1" in await wait_for_key(ws, "light1")


async def test_measured_values_arrive_as_they_change(server: ServerProcess) -> None:
    async with await open_api(server.ws_url, server.token) as ws:
        await receive_json(ws)
        messages = await collect(ws, 1.5)
    seconds = [m["seconds"] for m in messages if "seconds" in m]
    temperatures = [m["oct0"] for m in messages if "oct0" in m]
    assert seconds, "the clock variable is pushed"
    assert temperatures
    assert all(t.endswith("°C") for t in temperatures)


async def test_a_slow_client_does_not_hold_up_the_others(server: ServerProcess) -> None:
    async with (
        await open_api(server.ws_url, server.token) as stalled,
        await open_api(server.ws_url, server.token) as live,
    ):
        await receive_json(live)
        # `stalled` never reads; push many changes and check `live` keeps up.
        for index in range(60):
            await asyncio.to_thread(server.api, {"changeVideoName": f"n{index}" * 20})
        # `live` read nothing while the writes went in, so its deltas may arrive merged
        # with others (readings): wait for the last value, not for a message of one key.
        last: dict[str, object] = {}
        while last.get("changeVideoName") != "n59" * 20:
            last = await wait_for_key(live, "changeVideoName")
        assert stalled.state.name == "OPEN"
