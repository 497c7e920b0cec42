"""Three Gateway clients written for the network vendor's product, replayed request for
request (file and line cited at each) against a real camnet on loopback:

- ``larsenTFG/companion-module-pixotope-gateway`` (Bitfocus Companion), ``src/api.ts``;
- ``andreibazi/pixotope_gateway_interface``, ``pixotope_gateway_interface.js``;
- ``vindex10/pixotope-simple-control``, ``src-tauri/src/common.rs`` and ``cameras.rs``.

None of them has anywhere to put credentials. With ``bus_anonymous_role`` on they work;
off (the default) they are refused, in the array shape every Gateway answer has, and the
refusal is logged. Nothing of these clients is copied here; see docs/clients.md.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server
from tests.support import ADMIN_PASSWORD

MACHINE = "pxnode"


class GatewayError(Exception):
    """src/api.ts:328-330: a non-2xx status rejects with ``Gateway responded {status}``."""


def companion_publish(http: httpx.Client, base: str, request: dict[str, Any]) -> Any:
    """src/api.ts:282-356 (``publish``): POST ``{base}`` (``baseUrl``, api.ts:263-265),
    ``Content-Type: application/json``, the body ``JSON.stringify(request)``; the answer
    is ``JSON.parse``d when it parses."""
    payload = json.dumps(request)
    response = http.post(base, content=payload, headers={"Content-Type": "application/json"})
    if not 200 <= response.status_code < 300:
        raise GatewayError(f"Gateway responded {response.status_code}")
    try:
        return response.json()
    except ValueError:
        return response.text


def companion_extract_result(body: Any) -> Any:
    """src/api.ts:107-132 (``unwrapMessage``, ``extractResult``)."""
    value = body
    if isinstance(value, list):
        call_result = next(
            (m for m in value if isinstance(m, dict) and m["Topic"]["Type"] == "CallResult"),
            None,
        )
        value = call_result if call_result is not None else value[0]
    if isinstance(value, dict) and "Message" in value:
        value = value["Message"]
    if isinstance(value, dict):
        for key in ("Result", "CallResult", "Value"):
            if key in value:
                value = value[key]
                break
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def andreibazi_topic_to_url(base: str, topic: dict[str, str]) -> str:
    """pixotope_gateway_interface.js:24-30 (``topicToUrl``): keys and values joined as they are."""
    return base + "?" + "&".join(f"{key}={value}" for key, value in topic.items())


def andreibazi_frame_to_url(base: str, topic: dict[str, str], params: dict[str, Any]) -> str:
    """pixotope_gateway_interface.js:32-41 (``zmqFrameToUrl``)."""
    tail = [f"{key}={value}" for key, value in topic.items()]
    tail += [f"Param{key}={value}" for key, value in params.items()]
    return base + "?" + "&".join(tail)


def vindex_get(http: httpx.Client, endpoint: str, prop: str, target: str) -> str:
    """common.rs:20-27 (``get_pixotope_property``): GET, the body as text."""
    return http.get(f"{endpoint}/publish?Type=Get&Name={prop}&Target={target}").text


def vindex_set(http: httpx.Client, endpoint: str, prop: str, value: str, target: str) -> None:
    """common.rs:29-35 (``set_pixotope_property``)."""
    http.get(f"{endpoint}/publish?Type=Set&Name={prop}&Value={value}&Target={target}")


def vindex_unpack(text: str) -> Any:
    """cameras.rs:20-21: "response is a one element array, unpack by removing the brackets"."""
    return json.loads(text[1:-1])


@pytest.fixture(scope="module")
def open_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(
        tmp_path_factory.mktemp("px-open"), machine_name=MACHINE, bus_anonymous_role="operator"
    ) as server:
        yield server


@pytest.fixture(scope="module")
def closed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("px-closed"), machine_name=MACHINE) as server:
        yield server


def listener(server: InProcessServer) -> str:
    """The Gateway's own port: what each client's default URL (…:16208) points at."""
    url = server.app.state.node.gateway_listener.url
    assert url is not None
    return str(url)


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as client:
        yield client


def test_companion_module_with_the_setting_on(open_server: InProcessServer, http: Any) -> None:
    base = f"{listener(open_server)}/gateway/2.2.0/publish"  # config.ts:43-47 default 2.2.0
    # api.ts:385-392 (ping): a harmless Get of the Store's State.
    ping = companion_publish(
        http, base, {"Topic": {"Type": "Get", "Target": "Store", "Name": "State"}}
    )
    assert isinstance(ping, list)
    # api.ts:367-372 (set) and 375-379 (get), at config.ts:12's ~LOCAL~ target form.
    target = "~LOCAL~-C2"
    body = {"Topic": {"Type": "Set", "Target": target, "Name": "State.light0"}}
    answer = companion_publish(http, base, {**body, "Message": {"Value": True}})
    assert answer[0]["Topic"]["Source"] == f"{MACHINE}-C2"
    assert companion_extract_result(answer) is True
    got = companion_publish(
        http, base, {"Topic": {"Type": "Get", "Target": target, "Name": "State.light0"}}
    )
    assert companion_extract_result(got) is True
    # api.ts:359-364 (call) to the module's default ~LOCAL~-Engine: camnet has no Engine,
    # so the Gateway's own Log names the resolved service (an array, as always).
    call = companion_publish(
        http,
        base,
        {
            "Topic": {"Type": "Call", "Target": "~LOCAL~-Engine", "Method": "GetProperty"},
            "Message": {"Params": {"ObjectSearch": "Light", "PropertyPath": "Intensity"}},
        },
    )
    assert call[0]["Topic"]["Type"] == "Log"
    assert f"{MACHINE}-Engine" in companion_extract_result(call)["message"]


def test_andreibazi_interface_with_the_setting_on(open_server: InProcessServer, http: Any) -> None:
    base = f"{listener(open_server)}/gateway/2.2.0/publish"  # .js:9
    # .js:141-155 (saveToStoreState): axios.post(baseUrl, {Topic, Message}) as JSON.
    saved = http.post(
        base,
        json={
            "Topic": {"Type": "Set", "Target": "Store", "Name": "State.ThirdParty.ViaStore"},
            "Message": {"Value": 12},
        },
    )
    assert saved.status_code == 200
    # .js:157-161 (loadFromStoreStateAsync): GET topicToUrl(...), response.data.
    loaded = http.get(
        andreibazi_topic_to_url(
            base, {"Type": "Get", "Target": "Store", "Name": "State.ThirdParty.ViaStore"}
        )
    ).json()
    assert loaded[0]["Message"]["Value"] == 12
    # .js:99-108 (getOnlineClientsAsync): a Get of the Store's ConnectedClients.
    clients = http.post(
        base,
        json={
            "Topic": {"Type": "Get", "Target": "Store", "Name": "ConnectedClients"},
            "Message": {},
        },
    )
    assert isinstance(clients.json(), list)
    # .js:178-183 (loadFromEngineStateAsync) with the README's ~LOCAL~ form.
    state = http.get(
        andreibazi_topic_to_url(
            base, {"Type": "Get", "Target": "~LOCAL~-C2", "Name": "State.light1"}
        )
    ).json()
    assert state[0]["Message"]["Value"] in (True, False)  # README: response.data[0].Message.Value
    # .js:185-191 (getPropertyAsync): a Call as query parameters.
    prop = http.get(
        andreibazi_frame_to_url(
            base,
            {"Type": "Call", "Target": "~LOCAL~-Engine", "Method": "GetProperty"},
            {"ObjectSearch": "BP_Actor", "PropertyPath": "ExampleVar"},
        )
    ).json()
    assert prop[0]["Message"]["Value"]["level"] == "error"


def test_vindex_simple_control_with_the_setting_on(open_server: InProcessServer, http: Any) -> None:
    endpoint = f"{listener(open_server)}/gateway/25.1.1"  # common.rs:8
    # color_space.rs:24 and :37: set, then get and unpack.
    vindex_set(http, endpoint, "State.Defaults.ColorSpace", "ACES", "Store")
    answer = vindex_unpack(vindex_get(http, endpoint, "State.Defaults.ColorSpace", "Store"))
    assert answer["Message"]["Value"] == "ACES"
    # cameras.rs:19-27: State.Cameras is a map of {Name}.
    cameras = '{"A":{"Name":"Cam A"},"B":{"Name":"Cam B"}}'
    vindex_set(http, endpoint, "State.Cameras", cameras, "Store")
    unpacked = vindex_unpack(vindex_get(http, endpoint, "State.Cameras", "Store"))
    assert sorted(camera["Name"] for camera in unpacked["Message"]["Value"].values()) == [
        "Cam A",
        "Cam B",
    ]


def test_each_client_is_refused_with_the_setting_off_in_the_array_shape(
    closed_server: InProcessServer, http: Any, caplog: pytest.LogCaptureFixture
) -> None:
    base = f"{listener(closed_server)}/gateway/2.2.0/publish"
    caplog.set_level(logging.WARNING, logger="camnet.identity.anonymous")
    with pytest.raises(GatewayError, match="Gateway responded 401"):
        companion_publish(
            http, base, {"Topic": {"Type": "Get", "Target": "Store", "Name": "State"}}
        )
    refused = http.get(
        andreibazi_topic_to_url(base, {"Type": "Get", "Target": "Store", "Name": "State.X"})
    )
    assert refused.status_code == 401
    text = vindex_get(http, f"{listener(closed_server)}/gateway/25.1.1", "State.Cameras", "Store")
    log = vindex_unpack(text)  # the one-element array the client unpacks
    assert log["Topic"] == {"Type": "Log", "Source": f"{MACHINE}-Gateway", "Name": "Error"}
    assert log["Message"]["Value"]["statusCode"] == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "camnet.identity.anonymous"]
    assert any("bus_anonymous_role is off" in line for line in lines), lines


def test_access_token_in_the_query_is_a_bearer_token(
    closed_server: InProcessServer, http: Any
) -> None:
    """docs/network.md's ``?access_token=TOKEN`` (RFC 6750 §2.3)."""
    with closed_server.client() as client:
        token = client.post(
            "/pauth/token", json={"username": "default\\admin", "password": ADMIN_PASSWORD}
        ).json()["access_token"]
    query = {"Type": "Get", "Target": f"{MACHINE}-C2", "Name": "State.light0"}
    base = f"{closed_server.url}/gateway/24.1.0/publish"
    answer = http.get(base, params={**query, "access_token": token})
    assert answer.status_code == 200, answer.text
    assert answer.json()[0]["Topic"]["Type"] == "Update"
    wrong = http.get(base, params={**query, "access_token": "0" * 64})
    assert wrong.status_code == 401
    assert wrong.json()[0]["Topic"]["Type"] == "Log"


def test_a_wrong_credential_is_never_answered_as_the_anonymous_role(
    open_server: InProcessServer, http: Any
) -> None:
    base = f"{open_server.url}/gateway/24.1.0/publish"
    body = {"Topic": {"Type": "Get", "Target": "Store", "Name": "State"}}
    assert http.post(base, json=body).status_code == 200
    assert http.post(base, json=body, headers=basic("admin", "wrong")).status_code == 401
    assert http.post(base, json=body, params={"access_token": "nope"}).status_code == 401


def test_a_viewer_role_reads_and_may_not_write(tmp_path: Any, http: Any) -> None:
    with inprocess_server(tmp_path, machine_name=MACHINE, bus_anonymous_role="viewer") as server:
        base = f"{server.url}/gateway/24.1.0/publish"
        get = {"Topic": {"Type": "Get", "Target": "~LOCAL~-C2", "Name": "State.light0"}}
        assert http.post(base, json=get).status_code == 200
        put = {**get, "Topic": {**get["Topic"], "Type": "Set"}, "Message": {"Value": True}}
        refused = http.post(base, json=put)
        assert refused.status_code == 403
        assert "network:bus:write" in refused.json()[0]["Message"]["Value"]["message"]


def test_requests_from_outside_the_networks_are_refused_and_logged(
    tmp_path: Any, http: Any, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="camnet.identity.anonymous")
    with inprocess_server(
        tmp_path,
        machine_name=MACHINE,
        bus_anonymous_role="admin",
        bus_anonymous_networks=["192.0.2.0/24"],
    ) as server:
        answer = http.post(
            f"{server.url}/gateway/24.1.0/publish",
            json={"Topic": {"Type": "Get", "Target": "Store", "Name": "State"}},
        )
        assert answer.status_code == 401
    lines = [r.getMessage() for r in caplog.records if r.name == "camnet.identity.anonymous"]
    assert any("outside bus_anonymous_networks" in line for line in lines), lines
