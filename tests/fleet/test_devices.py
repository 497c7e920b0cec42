"""The registry over HTTP: paging meta, sorting, filters, versioned edits, tenancy, and
image links (early, ready, tampered, expired)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.fleet.conftest import OLD_DEVICES, OTHER_EMAIL, PASSWORD, VIEWER_EMAIL
from tests.fleet.helpers import ADMIN_EMAIL, bearer, fleet_error, login, wait_until
from tests.inprocess import InProcessServer


@pytest.fixture
def admin(fleet_server: InProcessServer) -> Iterator[httpx.Client]:
    with fleet_server.client() as http:
        token = login(http, ADMIN_EMAIL, fleet_server.admin_password)["access_token"]
        http.headers.update(bearer(token))
        yield http


def test_paging_meta_on_zero_one_and_many_pages(
    fleet_server: InProcessServer, admin: httpx.Client
) -> None:
    # The seeded old devices plus those the node serves (control unit, stereo camera).
    total = len(OLD_DEVICES) + len(fleet_server.app.state.node.devices)
    one = admin.get("/api/v1/devices").json()
    assert one["meta"] == {
        "current_page": 1,
        "from": 1,
        "last_page": 1,
        "per_page": 15,
        "total": total,
        "to": total,
        "total_pages": 1,
    }
    last = (total + 1) // 2
    assert last >= 3
    many = admin.get("/api/v1/devices", params={"per_page": 2, "page": last}).json()
    assert many["meta"] == {
        "current_page": last,
        "from": 2 * (last - 1) + 1,
        "last_page": last,
        "per_page": 2,
        "total": total,
        "to": total,
        "total_pages": last,
    }
    assert len(many["data"]) == total - 2 * (last - 1)
    none = admin.get("/api/v1/devices", params={"group": "nowhere"}).json()
    assert none == {
        "data": [],
        "meta": {
            "current_page": 1,
            "from": 0,
            "last_page": 1,
            "per_page": 15,
            "total": 0,
            "to": 0,
            "total_pages": 1,
        },
    }
    largest = admin.get("/api/v1/devices", params={"per_page": 100}).json()
    assert largest["meta"]["per_page"] == 100
    # Above max_page_size (100) is refused, not shortened (docs/fleet.md).
    too_many = fleet_error(admin.get("/api/v1/devices", params={"per_page": 101}), 422)
    assert "at most 100" in too_many["message"]
    for bad in ({"page": "0"}, {"per_page": "x"}, {"sort": "secret"}, {"is_online": "maybe"}):
        fleet_error(admin.get("/api/v1/devices", params=bad), 422)


def test_sorting_and_filters(fleet_server: InProcessServer, admin: httpx.Client) -> None:
    served = {device.name for device in fleet_server.app.state.node.devices}
    names = [
        d["name"] for d in admin.get("/api/v1/devices", params={"sort": "name"}).json()["data"]
    ]
    assert names == sorted(names, key=str.casefold)
    down = admin.get("/api/v1/devices", params={"sort": "-geo_city"}).json()["data"]
    assert [d["geo_city"] for d in down] == sorted((d["geo_city"] for d in down), reverse=True)
    for online in ("Online", "1"):
        live = admin.get("/api/v1/devices", params={"is_online": online}).json()["data"]
        assert {d["name"] for d in live} == served
        assert {d["is_online"] for d in live} == {1}
        assert set(live[0]) >= {
            "uuid",
            "name",
            "client_identifier",
            "refreshed",
            "is_online",
            "geo_city",
            "geo_country",
        }
    for offline in ("Offline", "0"):
        gone = admin.get("/api/v1/devices", params={"is_online": offline}).json()["data"]
        assert {d["name"] for d in gone} == {s.split("-")[0] for s in OLD_DEVICES}
    north = admin.get("/api/v1/devices", params={"group": "north"}).json()["data"]
    assert {d["name"] for d in north} == {"attic", "gate"}


def test_edits_are_versioned_and_limited_to_the_editable_fields(admin: httpx.Client) -> None:
    device = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"][0]
    path = f"/api/v1/devices/{device['uuid']}"
    first = admin.get(path)
    etag = first.headers["etag"]
    changed = admin.put(
        path,
        json={
            **first.json(),
            "name": "Cell 3",
            "geo_city": "Turku",
            "is_online": 0,
            "uuid": "forged",
        },
        headers={"If-Match": etag},
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert body["name"] == "Cell 3"
    assert body["geo_city"] == "Turku"
    assert body["uuid"] == device["uuid"]
    assert body["is_online"] == 1
    stale = admin.put(path, json={"name": "Late"}, headers={"If-Match": etag})
    fleet_error(stale, 412)
    assert admin.get(path).json()["name"] == "Cell 3"
    fleet_error(admin.put(path, json={"name": ""}), 422)
    fleet_error(admin.get("/api/v1/devices/no-such-device"), 404)
    fleet_error(admin.get("/api/v1/nothing-here"), 404)


def test_tenants_see_only_their_devices(fleet_server: InProcessServer, admin: httpx.Client) -> None:
    uuid = admin.get("/api/v1/devices").json()["data"][0]["uuid"]
    with fleet_server.client() as http:
        other = bearer(login(http, OTHER_EMAIL, PASSWORD)["access_token"])
        assert http.get("/api/v1/devices", headers=other).json()["meta"]["total"] == 0
        fleet_error(http.get(f"/api/v1/devices/{uuid}", headers=other), 404)
        fleet_error(http.put(f"/api/v1/devices/{uuid}", json={"name": "x"}, headers=other), 404)
        viewer = bearer(login(http, VIEWER_EMAIL, PASSWORD)["access_token"])
        assert http.get(f"/api/v1/devices/{uuid}", headers=viewer).status_code == 200
        fleet_error(http.put(f"/api/v1/devices/{uuid}", json={"name": "x"}, headers=viewer), 403)
        fleet_error(
            http.put(f"/api/v1/devices/{uuid}", json={"group": "mine"}, headers=viewer), 403
        )
    moved = admin.put(f"/api/v1/devices/{uuid}", json={"account": "other", "group": "lab"})
    assert moved.status_code == 200, moved.text
    with fleet_server.client() as http:
        other = bearer(login(http, OTHER_EMAIL, PASSWORD)["access_token"])
        assert http.get(f"/api/v1/devices/{uuid}", headers=other).json()["group"] == "lab"
    assert admin.put(f"/api/v1/devices/{uuid}", json={"account": "default"}).status_code == 200


def test_image_links_early_ready_tampered_and_expired(
    fleet_server: InProcessServer, admin: httpx.Client
) -> None:
    device = admin.get("/api/v1/devices", params={"is_online": "1"}).json()["data"][0]
    offline = admin.get("/api/v1/devices", params={"is_online": "0"}).json()["data"][0]
    fleet_error(admin.post(f"/api/v1/devices/{offline['uuid']}/image"), 409)
    links = []
    for _ in range(2):
        answer = admin.post(f"/api/v1/devices/{device['uuid']}/image")
        assert answer.status_code == 200, answer.text
        raw, annotated = answer.json()["data"]
        assert raw.endswith("_raw_image")
        assert annotated.endswith("_annotated_image")
        links.append((raw, annotated))
    raw, annotated = links[-1]
    with httpx.Client() as anonymous:  # the link is the credential
        early = anonymous.get(raw)
        fleet_error(early, 503)
        assert 1 <= int(early.headers["retry-after"]) <= 20
        fleet_server.clock.advance(21)

        def ready() -> bool:
            return anonymous.get(annotated).status_code == 200

        wait_until(ready, what="the annotated image")
        picture = anonymous.get(raw)
        assert picture.status_code == 200
        assert picture.headers["content-type"] == "image/jpeg"
        assert picture.content[:2] == b"\xff\xd8"
        assert anonymous.get(annotated).content != picture.content
        head, _, tail = raw.rpartition(".")
        forged = head + "." + ("0" if tail[0] != "0" else "1") + tail[1:]
        fleet_error(anonymous.get(forged), 403)
        longer = raw.replace("_raw_image", "_annotated_image").replace(
            raw.split("/")[-1].split(".")[1], str(int(raw.split("/")[-1].split(".")[1]) + 9999)
        )
        fleet_error(anonymous.get(longer), 403)
        fleet_server.clock.advance(30 * 60)
        fleet_error(anonymous.get(raw), 410)
