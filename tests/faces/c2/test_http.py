"""Black-box tests of ``/api`` over HTTP, following the c2 seed's Http API section."""

from __future__ import annotations

import base64
import json
import time
from typing import Any

import httpx
import pytest

from camnet.devices.profiles.c2 import c2_schema
from tests.support import ServerProcess

SEED_SAMPLE_KEYS = (
    "oct0",
    "oct1",
    "light0",
    "light1",
    "hasInternet",
    "macAddr",
    "hostname",
    "netInfo",
    "pan0",
    "pan1",
    "pip",
    "psi0",
    "psi1",
    "psiSetpoint",
    "changeVideoName",
    "changeImageName",
    "changePostName",
    "record",
    "recordTime",
    "rtspPort",
)


def test_query_token_returns_the_whole_readable_state(server: ServerProcess) -> None:
    response = server.api()
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    state = response.json()
    for key in SEED_SAMPLE_KEYS:
        assert key in state, key
    assert isinstance(state["light0"], bool)
    assert state["record"] in ("start", "pause", "release", "stop")
    assert set(state["pan0"]) == {"x", "y"}
    assert state["oct0"].endswith("°C")
    assert state["psi0"].endswith("mbar")
    interface = state["netInfo"][0]
    for key in ("name", "macAddress", "gateway", "dhcp", "connections", "staticIp"):
        assert key in interface
    assert "takePicture" not in state
    assert "createTag" not in state


def test_the_three_query_authentication_forms(server: ServerProcess) -> None:
    with server.client() as client:
        for params in (
            {"user": "API-User", "token": server.token},
            {"token": server.token},
            {"password": server.token},
            {"user": "admin", "password": server.admin_password},
        ):
            assert client.get("/api", params=params).status_code == 200, params


def test_basic_authentication(server: ServerProcess) -> None:
    with server.client() as client:
        assert client.get("/api", auth=("API-User", server.token)).status_code == 200
        assert client.get("/api", auth=("admin", server.admin_password)).status_code == 200


@pytest.mark.parametrize(
    ("params", "headers"),
    [
        ({}, {}),
        ({"token": "wrong"}, {}),
        ({"user": "admin", "token": "test-token-0123456789"}, {}),
        ({"user": "nobody", "token": "test-token-0123456789"}, {}),
        ({"token": ""}, {}),
        ({}, {"Authorization": "Basic " + base64.b64encode(b"API-User:wrong").decode()}),
        ({}, {"Authorization": "Basic !!!not-base64"}),
        ({}, {"Authorization": "Bearer test-token-0123456789"}),
    ],
)
def test_anything_else_is_401(
    server: ServerProcess, params: dict[str, str], headers: dict[str, str]
) -> None:
    with server.client() as client:
        for method in ("GET", "POST"):
            response = client.request(
                method, "/api", params=params, headers=headers, content=b'{"light0": true}'
            )
            assert response.status_code == 401
            assert response.headers["www-authenticate"].startswith("Basic")
            assert response.json()["error"]["code"] == "unauthorized"


def test_get_selected_variables(server: ServerProcess) -> None:
    response = server.api({"get": "[light0,record,recordTime,pan0]"})
    assert response.status_code == 200
    body = response.json()
    assert list(body) == ["light0", "record", "recordTime", "pan0"]
    assert body["record"] == "stop"
    assert body["recordTime"] == 0


def test_unknown_and_unreadable_names_in_get_are_ignored(server: ServerProcess) -> None:
    response = server.api({"get": "[light0,noSuchThing,takePicture,record]"})
    assert response.status_code == 200
    assert list(response.json()) == ["light0", "record"]


def test_seed_setter_example(server: ServerProcess) -> None:
    """``light0=true&record=start``: the default storage under the data directory records
    (``record: stop`` without a usable storage is tests/recording/test_manual.py's)."""
    response = server.api([("light0", "true"), ("record", "start")])
    assert response.status_code == 200
    assert response.json() == {"light0": True, "record": "start"}
    assert server.api({"get": "[light0]"}).json() == {"light0": True}
    assert server.api({"record": "stop"}).json() == {"record": "stop"}
    server.api({"light0": "false"})


def test_seed_post_example_is_relative_and_answers_absolute(server: ServerProcess) -> None:
    server.post({"pan0": {"x": 1000, "y": 1000}, "zoom0": -40000})
    server.post({"pan0": {"x": -50, "y": -50}})  # back to the centre (50, 50)
    response = server.post({"pan0": {"x": -10.5, "y": -10}, "zoom0": 20000})
    assert response.status_code == 200
    assert response.json() == {"pan0": {"x": 39.5, "y": 40.0}, "zoom0": 20000}
    assert server.api({"get": "[pan0,zoom0]"}).json() == {
        "pan0": {"x": 39.5, "y": 40.0},
        "zoom0": 20000,
    }
    # Relative again: the same request moves further.
    again = server.post({"pan0": {"x": -10.5, "y": -10}, "zoom0": 20000}).json()
    assert again == {"pan0": {"x": 29.0, "y": 30.0}, "zoom0": 31424}


def test_post_get_query(server: ServerProcess) -> None:
    response = server.post({"get": ["light0", "record", "recordTime", "pan0"]})
    assert response.status_code == 200
    assert list(response.json()) == ["light0", "record", "recordTime", "pan0"]


def test_post_without_content_type_as_the_python_example_sends_it(
    server: ServerProcess,
) -> None:
    response = server.post(json.dumps({"light0": False}))
    assert response.status_code == 200
    assert response.json() == {"light0": False}


def test_relative_zoom_over_query(server: ServerProcess) -> None:
    start = server.api({"get": "[zoom1]"}).json()["zoom1"]
    first = server.api({"zoom1": "100"}).json()["zoom1"]
    assert first == min(start + 100, 31424)
    second = server.api({"zoom1": "-50"}).json()["zoom1"]
    assert second == first - 50


def test_getters_and_setters_run_in_written_order(server: ServerProcess) -> None:
    assert server.api([("light1", "true"), ("light1", "false")]).json() == {"light1": False}
    assert server.api([("light1", "false"), ("light1", "true")]).json() == {"light1": True}
    start = server.api({"get": "[zoom1]"}).json()["zoom1"]
    both = server.api([("zoom1", "-100000"), ("zoom1", "7"), ("get", "[zoom1,light1]")])
    assert both.json() == {"zoom1": 7, "light1": True}
    assert start >= 0
    # JSON bodies keep the written order, repeated members included.
    body = '{"light1": true, "get": ["light1"], "light1": false}'
    assert server.post(body).json() == {"light1": False}
    assert server.api({"get": "[light1]"}).json() == {"light1": False}


def _ranged_absolute() -> list[tuple[str, float, float]]:
    return [
        (v.name, float(v.minimum), float(v.maximum))  # type: ignore[arg-type]
        for v in c2_schema()
        if v.ranged
        and v.writable
        and not v.relative
        # Listener ports now move real listeners (tests/protocols): port 1 needs root and
        # moving the request's own listener is refused.
        and v.name not in ("httpPort", "httpsPort", "rtspPort")
    ]


@pytest.mark.parametrize(("name", "low", "high"), _ranged_absolute())
def test_saturation_at_both_ends(server: ServerProcess, name: str, low: float, high: float) -> None:
    below = server.api({name: str(low - 1000)}, user="admin")
    assert below.status_code == 200
    assert below.json() == {name: pytest.approx(low)}
    above = server.api({name: str(high + 1e6)}, user="admin").json()
    assert above == {name: pytest.approx(high)}
    json_low = server.post({name: low - 0.5 - 1e9}, admin=True).json()
    assert json_low == {name: pytest.approx(low)}


def test_saturation_of_relative_variables(server: ServerProcess) -> None:
    assert server.api({"zoom0": "-1e12"}).json() == {"zoom0": 0}
    assert server.api({"zoom0": "99999999999999999999"}).json() == {"zoom0": 31424}
    body = server.post({"pan1": {"x": -1e9, "y": 1e9}}).json()
    assert body == {"pan1": {"x": 0.0, "y": 100.0}}
    body = server.post({"pan1": {"x": 1e9, "y": -1e9}}).json()
    assert body == {"pan1": {"x": 100.0, "y": 0.0}}


def test_integers_round_and_floats_keep_their_fraction(server: ServerProcess) -> None:
    assert server.api({"gain": "3.7"}).json() == {"gain": 4}
    assert server.api({"expo": "12.25"}).json() == {"expo": 12.25}
    assert server.api({"light0": "1"}).json() == {"light0": True}
    assert server.post({"light0": 0}).json() == {"light0": False}


def _unchanged_after(server: ServerProcess, bad: httpx.Response, status: int) -> dict[str, Any]:
    assert bad.status_code == status, bad.text
    error = bad.json()["error"]
    assert error["status"] == status
    assert isinstance(error["message"], str)
    assert error["message"]
    return dict(error)


@pytest.mark.parametrize(
    "query",
    [
        [("light0", "true"), ("get", "[light0")],
        [("light0", "true"), ("get", "light0]")],
        [("light0", "true"), ("get", "[light0,,record]")],
        [("light0", "true"), ("get", "[light0;drop]")],
        [("light0", "true"), ("gain", "abc")],
        [("light0", "true"), ("record", "go")],
        [("light0", "true"), ("recordingFps", "20")],
        [("light0", "true"), ("pan0", '{"x":1}')],
        [("light0", "true"), ("noSuchVariable", "1")],
        [("light0", "true"), ("cam0Exists", "false")],
        [("light0", "true"), ("expo", "nan")],
        [("light0", "true"), ("timezone", "Mars/Olympus")],
    ],
)
def test_bad_query_changes_nothing(server: ServerProcess, query: list[tuple[str, str]]) -> None:
    server.api({"light0": "false"})
    _unchanged_after(server, server.api(query, user="admin"), 400)
    assert server.api({"get": "[light0]"}).json() == {"light0": False}


@pytest.mark.parametrize(
    "body",
    [
        b'{"light0": true, "gain": "lots"}',
        b'{"light0": true, "pan0": "left"}',
        b'{"light0": true, "pan0": {"x": "1"}}',
        b'{"light0": true, "pan0": {"z": 1}}',
        b'{"light0": true, "get": "light0"}',
        b'{"light0": true, "get": [1, 2]}',
        b'{"light0": true, "light1": null}',
        b'{"light0": true, "unknown": 1}',
        b'{"light0": true, "expo": NaN}',
        b'{"light0": true,',
        b"[1, 2, 3]",
        b'"light0"',
        b"\xff\xfe\x00",
        b"",
    ],
)
def test_bad_json_changes_nothing(server: ServerProcess, body: bytes) -> None:
    server.api({"light0": "false"})
    _unchanged_after(server, server.post(body, admin=True), 400)
    assert server.api({"get": "[light0]"}).json() == {"light0": False}


def test_bodies_over_one_mebibyte_are_413(server: ServerProcess) -> None:
    server.api({"light0": "false"})
    padding = "x" * (1 << 20)
    body = json.dumps({"light0": True, "changeVideoName": padding})
    error = _unchanged_after(server, server.post(body), 413)
    assert error["code"] == "body_too_large"
    assert server.api({"get": "[light0]"}).json() == {"light0": False}

    def chunks() -> Any:
        yield b'{"light0": true, "changeVideoName": "'
        for _ in range(40):
            yield b"y" * 65536
        yield b'"}'

    with server.client() as client:
        streamed = client.post("/api", content=chunks(), auth=("API-User", server.token))
    assert streamed.status_code == 413
    assert server.api({"get": "[light0]"}).json() == {"light0": False}


def test_long_strings_are_refused(server: ServerProcess) -> None:
    response = server.post({"changeVideoName": "n" * 256})
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["key"] == "changeVideoName"


def test_every_problem_is_listed(server: ServerProcess) -> None:
    response = server.api([("gain", "x"), ("nope", "1"), ("brightness", "y")])
    details = response.json()["error"]["details"]
    assert [d["key"] for d in details] == ["gain", "nope", "brightness"]


def test_methods_other_than_get_and_post(server: ServerProcess) -> None:
    with server.client() as client:
        response = client.put("/api", params={"token": server.token})
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in response.headers["allow"]


def test_bad_storage_selection_is_refused(server: ServerProcess) -> None:
    response = server.api({"recordingStorage": "no-such-uuid"}, user="admin")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["key"] == "recordingStorage"


def test_host_facts_come_from_the_real_host(server: ServerProcess) -> None:
    import re
    import socket

    state = server.api({"get": "[hostname,macAddr,netInfo,time,seconds,swVersion]"}).json()
    assert state["hostname"] == socket.gethostname()
    assert state["macAddr"] == "" or re.fullmatch(r"([0-9A-F]{2}:){5}[0-9A-F]{2}", state["macAddr"])
    assert all("macAddress" in interface for interface in state["netInfo"])
    assert len(state["time"]) == 6
    assert abs(state["seconds"] - time.time()) < 5
    assert state["swVersion"].startswith("camnet ")
