"""The Gateway: the vendor's GET and POST shapes, answered with the array of replies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from camnet.faces.gateway import envelope_from_query, parse_query_value
from tests.identity.helpers import basic
from tests.inprocess import inprocess_server
from tests.support import ADMIN_PASSWORD, TOKEN

PUBLISH = "/gateway/24.1.0/publish"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    with (
        inprocess_server(tmp_path_factory.mktemp("gw"), machine_name="gwnode") as server,
        server.client(headers=basic("admin", ADMIN_PASSWORD)) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def server_url(gateway: httpx.Client) -> str:
    return str(gateway.base_url)


def test_post_get_answers_with_the_update_addressed_to_the_gateway(gateway: httpx.Client) -> None:
    body = {"Topic": {"Type": "Get", "Target": "gwnode-C2", "Name": "State.light0"}}
    response = gateway.post(PUBLISH, json=body)
    assert response.status_code == 200
    replies = response.json()
    assert len(replies) == 1
    topic = replies[0]["Topic"]
    assert topic["Type"] == "Update"
    assert topic["Source"] == "gwnode-C2"
    assert topic["Target"].startswith("gwnode-Gateway-")
    assert replies[0]["Message"] == {"Value": False}


def test_post_set_then_get_with_query_values_json_decoded(gateway: httpx.Client) -> None:
    body = {
        "Topic": {"Type": "Set", "Target": "gwnode-C2", "Name": "State.light1"},
        "Message": {"Value": True},
    }
    replies = gateway.post(PUBLISH, json=body).json()
    assert [reply["Message"] for reply in replies] == [{"Value": True}]
    replies = gateway.get(
        PUBLISH,
        params={"Type": "Set", "Target": "gwnode-C2", "Name": "State.light1", "Value": "false"},
    ).json()
    assert [reply["Message"] for reply in replies] == [{"Value": False}]
    replies = gateway.get(
        PUBLISH, params={"Type": "Get", "Target": "gwnode-C2", "Name": "State.light1"}
    ).json()
    assert replies[0]["Message"] == {"Value": False}


def test_a_refused_set_comes_back_as_the_devices_log(gateway: httpx.Client) -> None:
    body = {
        "Topic": {"Type": "Set", "Target": "gwnode-C2", "Name": "State.light0"},
        "Message": {"Value": "not a boolean"},
    }
    replies = gateway.post(PUBLISH, json=body).json()
    assert replies[0]["Topic"]["Type"] == "Log"
    assert replies[0]["Message"]["Value"]["level"] == "error"


def test_an_unknown_target_is_answered_by_the_gateway_with_a_log(gateway: httpx.Client) -> None:
    body = {"Topic": {"Type": "Get", "Target": "gwnode-Nobody", "Name": "State.x"}}
    replies = gateway.post(PUBLISH, json=body).json()
    assert len(replies) == 1
    assert replies[0]["Topic"]["Type"] == "Log"
    assert replies[0]["Topic"]["Source"] == "gwnode-Gateway"
    assert "gwnode-Nobody" in replies[0]["Message"]["Value"]["message"]


def test_an_update_is_published_without_waiting(gateway: httpx.Client) -> None:
    body = {"Topic": {"Type": "Update", "Name": "State.cue"}, "Message": {"Value": 1}}
    response = gateway.post(PUBLISH, json=body)
    assert response.status_code == 200
    assert response.json() == []


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"{nope", "not JSON"),
        (b'{"Message": {}}', "no Topic"),
        (b'{"Topic": {"Target": "x"}}', "no Type"),
        (b'{"Topic": {"Type": "Shout"}}', "unknown Type"),
        (b'{"Topic": {"Type": "Get"}, "Extra": 1}', "unknown body fields"),
    ],
)
def test_bad_bodies_are_400_as_an_array_holding_one_log(
    gateway: httpx.Client, body: bytes, words: str
) -> None:
    response = gateway.post(PUBLISH, content=body)
    assert response.status_code == 400
    [log] = response.json()
    assert log["Topic"]["Type"] == "Log"
    error = log["Message"]["Value"]
    assert error["statusCode"] == 400
    assert error["error"] == "Bad Request"
    assert words in error["message"]


def test_the_gateway_needs_credentials_and_the_network_permission(server_url: str) -> None:
    body = {"Topic": {"Type": "Get", "Target": "gwnode-C2", "Name": "State.light0"}}
    with httpx.Client(base_url=server_url) as anonymous:
        response = anonymous.post(PUBLISH, json=body)
        assert response.status_code == 401
        assert response.json()[0]["Message"]["Value"]["statusCode"] == 401
        # The c2 API-User's token is for the c2 API only.
        response = anonymous.post(PUBLISH, json=body, params={"token": TOKEN})
        assert response.status_code == 403
        assert "network:bus:read" in response.json()[0]["Message"]["Value"]["message"]


@pytest.mark.parametrize(
    ("text", "value"),
    [("true", True), ("3", 3), ("2.5", 2.5), ('{"a":1}', {"a": 1}), ("abc", "abc"), ("", "")],
)
def test_query_values_are_json_when_they_parse(text: str, value: Any) -> None:
    assert parse_query_value(text) == value


def test_params_come_from_param_prefixed_keys() -> None:
    envelope = envelope_from_query(
        {"Type": "Call", "Target": "m-Store", "Method": "Save", "ParamName": "x", "ParamCount": "2"}
    )
    assert envelope.message.params == {"Name": "x", "Count": 2}
    assert envelope.topic.method == "Save"
