"""Webhooks against real receivers on loopback: the seed's fields and answers, payload
deliveries verified by the ``standardwebhooks`` package, a receiver down for 30 s (the
node's clock moved, the receiver really stopped and restarted), 410, keepalives, and
the SSRF guard end to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from tests.fleet.conftest import PASSWORD, VIEWER_EMAIL
from tests.fleet.helpers import ADMIN_EMAIL, bearer, fleet_error, login, wait_until
from tests.fleet.receiver import Receiver
from tests.inprocess import InProcessServer, inprocess_server


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    running = Receiver().start()
    yield running
    running.stop()


@pytest.fixture
def admin(fleet_server: InProcessServer) -> Iterator[httpx.Client]:
    with fleet_server.client() as http:
        token = login(http, ADMIN_EMAIL, fleet_server.admin_password)["access_token"]
        http.headers.update(bearer(token))
        yield http


def set_brightness(server: InProcessServer, value: int) -> None:
    with server.client() as http:
        answer = http.get(
            "/api", params={"brightness": str(value)}, auth=("admin", server.admin_password)
        )
        assert answer.status_code == 200, answer.text


def test_webhook_fields_and_answers(admin: httpx.Client, receiver: Receiver) -> None:
    device = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"][0]
    body = {
        "url": receiver.url,
        "webhook_type": "payload",
        "status": 0,
        "actions": "state,online",
        "data": {
            "headers": [{"name": "Authorization", "value": "Token abc"}],
            "params": [{"name": "site", "value": "north"}],
        },
    }
    made = admin.post("/api/v1/webhooks", params={"device_uuid": device["uuid"]}, json=body)
    assert made.status_code == 201, made.text
    answer = made.json()
    assert answer["error"] == []
    hook = answer["data"]
    assert hook["secret"].startswith("whsec_")
    assert {k: hook[k] for k in body} == body
    listed = admin.get("/api/v1/webhooks", params={"device_uuid": device["uuid"]}).json()
    assert [h["id"] for h in listed["data"]] == [hook["id"]]
    assert "secret" not in listed["data"][0]
    changed = admin.put(f"/api/v1/webhooks/{hook['id']}", json={"actions": "image"})
    assert changed.status_code == 200
    assert changed.json() == {"error": [], "data": {**changed.json()["data"], "actions": "image"}}
    bad = admin.post("/api/v1/webhooks", json={**body, "actions": "state,weather"})
    assert fleet_error(bad, 422)["error"]
    bad_type = admin.post("/api/v1/webhooks", json={**body, "webhook_type": "sms"})
    assert fleet_error(bad_type, 422)["error"]
    header = {"name": "webhook-id", "value": "x"}
    reserved = admin.post("/api/v1/webhooks", json={**body, "data": {"headers": [header]}})
    fleet_error(reserved, 422)
    fleet_error(admin.post("/api/v1/webhooks", params={"device_uuid": "nope"}, json=body), 404)
    fleet_error(admin.put("/api/v1/webhooks/99999", json={"status": 1}), 404)
    assert admin.delete(f"/api/v1/webhooks/{hook['id']}").status_code == 204
    fleet_error(admin.delete(f"/api/v1/webhooks/{hook['id']}"), 404)


def test_payload_deliveries_are_signed_per_standard_webhooks(
    fleet_server: InProcessServer, admin: httpx.Client, receiver: Receiver
) -> None:
    device = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"][0]
    body = {
        "url": receiver.url + "?fixed=1",
        "actions": "state",
        "data": {
            "headers": [{"name": "X-Tenant", "value": "t1"}],
            "params": [{"name": "site", "value": "north"}],
        },
    }
    made = admin.post("/api/v1/webhooks", json=body).json()["data"]
    set_brightness(fleet_server, 3)
    set_brightness(fleet_server, 4)
    wait_until(lambda: len(receiver.posts()) >= 2, what="two deliveries")
    verifier = Webhook(made["secret"])
    values = []
    for request in receiver.posts():
        payload = verifier.verify(request.body, request.headers)
        assert request.path.startswith("/hook?")
        assert "fixed=1" in request.path
        assert "site=north" in request.path
        assert request.headers["X-Tenant"] == "t1"
        assert set(payload) == {"stream_id", "type", "timestamp", "payload"}
        assert payload["stream_id"] == device["uuid"]
        assert payload["type"] == "state"
        values.append(payload["payload"])
    assert {"name": "brightness", "value": 4} in values
    tampered = dict(receiver.posts()[0].headers)
    with pytest.raises(Exception, match="signature"):
        verifier.verify(receiver.posts()[0].body + b" ", tampered)
    attempts = admin.get(f"/api/v1/webhooks/{made['id']}/deliveries").json()
    assert attempts["data"][0]["status"] == "delivered"
    assert attempts["data"][0]["response_code"] == 200
    assert attempts["data"][0]["latency_ms"] >= 0
    admin.delete(f"/api/v1/webhooks/{made['id']}")


def test_receiver_down_for_30_s_gets_every_event_once(
    fleet_server: InProcessServer, admin: httpx.Client, receiver: Receiver
) -> None:
    set_brightness(fleet_server, 7)  # brightness saturates at ±7: every value below changes it
    made = admin.post("/api/v1/webhooks", json={"url": receiver.url, "actions": "state"})
    hook = made.json()["data"]
    receiver.stop()
    for value in range(-7, 7):
        set_brightness(fleet_server, value)
    wait_until(
        lambda: any(
            a["status"] == "retry"
            for a in admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["data"]
        ),
        what="a failed attempt",
    )
    for _ in range(6):  # 30 s of the node's clock with the receiver down
        fleet_server.clock.advance(5)
        wait_until(lambda: True)
    receiver.start()
    fleet_server.clock.advance(120)  # past any retry time (retry_max is 60 s)

    def all_there() -> bool:
        # Time goes on while we wait: an attempt that was already under way when the
        # receiver came back may have failed and been rescheduled up to retry_max later.
        fleet_server.clock.advance(61)
        values = {
            json.loads(r.body)["payload"]["value"]
            for r in receiver.posts()
            if Webhook(hook["secret"]).verify(r.body, r.headers)
        }
        return set(range(-7, 7)) <= values

    wait_until(all_there, what="every event after the receiver returned")
    by_id: dict[str, bytes] = {}
    for request in receiver.posts():
        by_id.setdefault(request.headers["webhook-id"], request.body)
        assert by_id[request.headers["webhook-id"]] == request.body, "same id, same body"
    delivered = [json.loads(body)["payload"]["value"] for body in by_id.values()]
    assert sorted(delivered) == list(range(-7, 7)), "each event once per webhook-id"
    attempts = admin.get(f"/api/v1/webhooks/{hook['id']}/deliveries").json()["data"]
    assert any(a["next_retry"] for a in attempts if a["status"] == "retry")
    admin.delete(f"/api/v1/webhooks/{hook['id']}")


def test_410_disables_and_retry_after_is_honoured(
    fleet_server: InProcessServer, admin: httpx.Client, receiver: Receiver
) -> None:
    receiver.status = 429
    receiver.extra_headers = {"Retry-After": "40"}
    hook = admin.post("/api/v1/webhooks", json={"url": receiver.url, "actions": "state"}).json()
    hook_id = hook["data"]["id"]
    set_brightness(fleet_server, 9)
    wait_until(lambda: len(receiver.posts()) >= 1, what="the first attempt")
    attempt = admin.get(f"/api/v1/webhooks/{hook_id}/deliveries").json()["data"][0]
    assert attempt["response_code"] == 429
    receiver.status = 410
    fleet_server.clock.advance(41)
    wait_until(lambda: len(receiver.posts()) >= 2, what="the retry after 40 s")

    def disabled() -> bool:
        listed = admin.get("/api/v1/webhooks").json()["data"]
        return [h["status"] for h in listed if h["id"] == hook_id] == [0]

    wait_until(disabled, what="the webhook disabled by 410")
    admin.delete(f"/api/v1/webhooks/{hook_id}")


def test_keepalive_pings_each_device(
    fleet_server: InProcessServer, admin: httpx.Client, receiver: Receiver
) -> None:
    device = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"][0]
    made = admin.post(
        "/api/v1/webhooks",
        params={"device_uuid": device["uuid"]},
        json={"url": receiver.url, "webhook_type": "keepalive"},
    ).json()["data"]
    wait_until(lambda: any(r.method == "GET" for r in receiver.requests), what="a keepalive")
    ping = next(r for r in receiver.requests if r.method == "GET")
    assert ping.path == f"/hook?source=camnet&id={device['uuid']}"
    admin.delete(f"/api/v1/webhooks/{made['id']}")


def test_loopback_receiver_is_refused_unless_allow_listed(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server, server.client() as http:
        token = login(http, ADMIN_EMAIL, server.admin_password)["access_token"]
        for url in (
            "http://127.0.0.1:9/hook",
            "http://[::1]:9/",
            "http://localhost:9/",
            "ftp://example.com/",
            "http://user:pw@example.com/",
        ):
            refused = http.post("/api/v1/webhooks", json={"url": url}, headers=bearer(token))
            assert fleet_error(refused, 422)["error"]


def test_receiver_credentials_are_masked_for_readers(
    fleet_server: InProcessServer, admin: httpx.Client, receiver: Receiver
) -> None:
    """Issue 17, item 12: only a principal that may change a webhook reads its values."""
    data = {
        "headers": [{"name": "Authorization", "value": "Bearer receiver-secret"}],
        "params": [{"name": "api_key", "value": "param-secret"}],
    }
    made = admin.post("/api/v1/webhooks", json={"url": receiver.url, "status": 0, "data": data})
    hook = made.json()["data"]
    listed = admin.get("/api/v1/webhooks").json()["data"]
    assert next(h for h in listed if h["id"] == hook["id"])["data"] == data
    with fleet_server.client() as http:
        token = login(http, VIEWER_EMAIL, PASSWORD)["access_token"]
        seen = http.get("/api/v1/webhooks", headers=bearer(token))
    assert seen.status_code == 200, seen.text
    shown = next(h for h in seen.json()["data"] if h["id"] == hook["id"])
    assert "receiver-secret" not in seen.text
    assert "param-secret" not in seen.text
    assert shown["data"] == {
        "headers": [{"name": "Authorization", "value": "********"}],
        "params": [{"name": "api_key", "value": "********"}],
    }
    admin.delete(f"/api/v1/webhooks/{hook['id']}")
