"""Bad input that once made 500s (issue 17, item 9), on every face of a real server: a
lone surrogate in JSON, ``NaN``/``Infinity``/``1e999``, integers of more than 4,300
digits, Unicode digits, and 1,001 query fields with valid credentials. Each gets its
dialect's 4xx; the c2 WebSocket answers with its error message and stays usable.

The same input classes are fuzzed in ``test_fuzz_bad_input.py``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import websocket

from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.settings import default_machine_name
from tests.fleet.helpers import ADMIN_EMAIL, bearer, login
from tests.inprocess import InProcessServer, inprocess_server

MXID = default_stereo_mxid(default_machine_name())  # the default stereo camera
STREAMS = f"/cameras/{MXID}/streams/CAM_A"
SURROGATE = b'"\\ud800"'
HUGE = "9" * 5000
JSON = {"Content-Type": "application/json"}

Dialect = Callable[[httpx.Response], None]


def c2(response: httpx.Response) -> None:
    body = response.json()
    assert set(body) == {"error"}, body
    assert body["error"]["status"] == response.status_code
    assert body["error"]["message"]


def house(response: httpx.Response) -> None:
    body = response.json()
    assert body["statusCode"] == response.status_code, body
    assert body["message"]


def gateway(response: httpx.Response) -> None:
    """The house body, or (issue 18) an array holding one Log whose value is that body."""
    body = response.json()
    if isinstance(body, list):
        [log] = body
        assert log["Topic"]["Type"] == "Log", body
        body = log["Message"]["Value"]
    assert body["statusCode"] == response.status_code, body
    assert body["message"]


def fleet(response: httpx.Response) -> None:
    body = response.json()
    assert body["httpError"] == response.status_code, body
    assert body["message"]


def streams(response: httpx.Response) -> None:
    body = response.json()
    assert set(body) == {"detail"}, body


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("bad-input")) as running:
        yield running


@pytest.fixture(scope="module")
def admin(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client(auth=("admin", server.admin_password)) as client:
        yield client


@pytest.fixture(scope="module")
def fleet_admin(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client() as client:
        token = login(client, ADMIN_EMAIL, server.admin_password)["access_token"]
        client.headers.update(bearer(token))
        yield client


def machine(server: InProcessServer) -> str:
    name: str = server.app.state.node.settings.machine_name
    return name


def surrogate_bodies(server: InProcessServer) -> list[tuple[str, str, bytes, Dialect]]:
    """(method, path, body, dialect) with a lone surrogate somewhere in the JSON."""
    node = f"/nodes/{machine(server)}/api"
    return [
        ("POST", "/api", b"{" + SURROGATE + b": 1}", c2),
        ("POST", "/api", b'{"changeVideoName": ' + SURROGATE + b"}", c2),
        ("POST", node, b"{" + SURROGATE + b": 1}", c2),
        ("POST", node, b'{"changeVideoName": ' + SURROGATE + b"}", c2),
        ("POST", STREAMS + "/control", b'{"exposure_time": ' + SURROGATE + b"}", streams),
        ("POST", STREAMS + "/config", b"{" + SURROGATE + b": 1}", streams),
        ("POST", "/pauth/token", b'{"username": ' + SURROGATE + b', "password": "x"}', house),
        ("POST", "/ui/session", b'{"username": ' + SURROGATE + b', "password": "x"}', house),
        (
            "POST",
            "/gateway/24.1.0/publish",
            b'{"Topic": {"Type": "Get", ' + SURROGATE + b": 1}}",
            gateway,
        ),
        (
            "POST",
            "/gateway/24.1.0/publish",
            b'{"Topic": {"Type": "Set", "Target": "x", "Name": ' + SURROGATE + b"}}",
            gateway,
        ),
        ("POST", "/accounts", b'{"name": ' + SURROGATE + b"}", house),
        ("POST", "/data/tags", b'{"name": ' + SURROGATE + b"}", house),
    ]


def test_lone_surrogates_in_json_are_4xx(server: InProcessServer, admin: httpx.Client) -> None:
    failures = []
    for method, path, body, dialect in surrogate_bodies(server):
        answer = admin.request(method, path, content=body, headers=JSON)
        if not 400 <= answer.status_code < 500:
            failures.append((path, body, answer.status_code, answer.text[:120]))
            continue
        dialect(answer)
    assert not failures, failures


def test_lone_surrogate_in_a_fleet_body_is_4xx(fleet_admin: httpx.Client) -> None:
    answer = fleet_admin.post(
        "/api/v1/webhooks", content=b'{"url": ' + SURROGATE + b"}", headers=JSON
    )
    assert answer.status_code == 400, answer.text
    fleet(answer)


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"-1e999"])
@pytest.mark.parametrize(("path", "field"), [("/control", b"exposure_time"), ("/config", b"fps")])
def test_non_finite_numbers_in_streams_are_422(
    admin: httpx.Client, path: str, field: bytes, number: bytes
) -> None:
    before = admin.get(STREAMS + path).json()
    answer = admin.post(
        STREAMS + path, content=b'{"' + field + b'": ' + number + b"}", headers=JSON
    )
    assert answer.status_code == 422, answer.text
    streams(answer)
    assert admin.get(STREAMS + path).json() == before


@pytest.mark.parametrize(
    "number", [HUGE, "\u00b2", "\u0661"], ids=["5000-digits", "superscript-two", "arabic-one"]
)
def test_numbers_beyond_any_limit_in_queries_and_if_match(
    admin: httpx.Client, fleet_admin: httpx.Client, number: str
) -> None:
    for name in ("page", "perPage"):
        answer = admin.get("/data/recordings", params={name: number})
        assert answer.status_code == 400, (name, answer.text[:200])
        house(answer)
    for name in ("page", "per_page"):
        answer = fleet_admin.get("/api/v1/devices", params={name: number})
        assert 400 <= answer.status_code < 500, (name, answer.text[:200])
        fleet(answer)
    # A header carries octets: U+0661 cannot be sent, "²" is its latin-1 byte.
    match = number.encode("latin-1", errors="ignore") or b"x"
    device = fleet_admin.get("/api/v1/devices").json()["data"][0]["uuid"]
    answer = fleet_admin.put(
        f"/api/v1/devices/{device}", json={"name": "x"}, headers={b"If-Match": b'"' + match + b'"'}
    )
    assert answer.status_code == 412, answer.text[:200]
    fleet(answer)
    answer = admin.patch(
        "/accounts/default/users/admin", json={"enabled": True}, headers={b"If-Match": match}
    )
    assert answer.status_code == 412, answer.text[:200]
    house(answer)
    answer = admin.post("/api", content=b'{"gain": ' + HUGE.encode() + b"}", headers=JSON)
    assert answer.status_code == 400, answer.text[:200]
    c2(answer)


def test_a_range_beyond_any_file_is_416(tmp_path: Path) -> None:
    with (
        inprocess_server(tmp_path, segment_seconds=1) as server,
        server.client(auth=("admin", server.admin_password)) as api,
    ):
        assert api.get("/api", params={"record": "start"}).status_code == 200
        deadline = time.monotonic() + 30
        recordings: list[Any] = []
        while not recordings:
            assert time.monotonic() < deadline, "no recording closed in 30 s"
            time.sleep(0.2)
            recordings = [
                r for r in api.get("/data/recordings").json()["recordings"] if not r["open"]
            ]
        assert api.get("/api", params={"record": "stop"}).status_code == 200
        path = f"/data/recordings/{recordings[0]['id']}/file"
        for header in (f"bytes={HUGE}-", f"bytes=0-{HUGE}", f"bytes=-{HUGE}"):
            answer = api.get(path, headers={"Range": header})
            assert answer.status_code == 416, (header[:20], answer.status_code)


@pytest.mark.parametrize(
    ("path", "dialect"),
    [
        ("/api", c2),
        ("/api/v1/devices", fleet),
        ("/data/recordings", house),
        ("/accounts", house),
    ],
)
def test_1001_query_fields_with_valid_credentials_are_400(
    server: InProcessServer, fleet_admin: httpx.Client, path: str, dialect: Dialect
) -> None:
    query = "&".join(f"f{i}=1" for i in range(1001))
    answer = fleet_admin.get(f"{path}?{query}")
    assert answer.status_code == 400, answer.text[:200]
    dialect(answer)
    with server.client() as anonymous:
        answer = anonymous.get(f"{path}?{query}")
        assert answer.status_code == 400, answer.text[:200]


def next_error(ws: websocket.WebSocket, timeout: float = 5.0) -> dict[str, Any]:
    """The next error message (state updates may arrive in between)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        message = json.loads(ws.recv())
        if "error" in message:
            assert isinstance(message, dict)
            return message
    raise AssertionError("no error message arrived")


@pytest.mark.parametrize("path", ["/api", "/nodes/{machine}/api"])
def test_c2_websocket_answers_a_lone_surrogate_and_stays_usable(
    server: InProcessServer, path: str
) -> None:
    query = urlencode({"user": "admin", "token": server.admin_password})
    address = server.url.replace("http", "ws") + path.replace("{machine}", machine(server))
    ws = websocket.create_connection(f"{address}?{query}", timeout=5)
    try:
        ws.recv()  # the whole state
        ws.send('{"\\ud800": true}')
        assert next_error(ws)["error"]["code"] == "invalid_json"
        ws.send('{"light0": "\\ud800"}')
        assert next_error(ws)["error"]["code"] == "invalid_json"
        ws.send('{"nope": 1}')  # still answered: the session is alive
        assert next_error(ws)["error"]["status"] == 400
    finally:
        ws.close()
