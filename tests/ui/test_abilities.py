"""What the dashboard is told a principal may do (``may`` in ``GET /ui/session``) and the
grouping the schema endpoint carries: an admin may everything, a viewer nothing that
writes, and each answer agrees with what the server then does."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from camnet.devices.profiles.c2 import c2_schema
from camnet.faces.ui.groups import GROUPS, annotate, group_of, label_of
from tests.inprocess import InProcessServer, inprocess_server

VIEWER = ("watcher", "watcher-password-1")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("ui-abilities")) as running:
        with running.client(auth=("admin", running.admin_password)) as api:
            created = api.post(
                "/accounts/default/users",
                json={"username": VIEWER[0], "password": VIEWER[1], "role": "viewer"},
            )
            assert created.status_code == 201, created.text
        yield running


def session(client: httpx.Client, user: str, password: str) -> dict[str, object]:
    answer = client.post("/ui/session", json={"username": user, "password": password})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_an_admin_may_everything(server: InProcessServer) -> None:
    with server.client() as http:
        may = session(http, "admin", server.admin_password)["may"]
    assert may == {
        "stateWrite": "*",
        "record": True,
        "tag": True,
        "streams": True,
        "webhooks": True,
        "administer": True,
    }


def test_a_viewer_may_nothing_that_writes_and_the_server_agrees(server: InProcessServer) -> None:
    with server.client() as http:
        may = session(http, *VIEWER)["may"]
    assert may == {
        "stateWrite": [],
        "record": False,
        "tag": False,
        "streams": False,
        "webhooks": False,
        "administer": False,
    }
    with server.client(auth=VIEWER) as api:
        assert api.post("/api", json={"light0": True}).status_code == 403
        assert api.post("/data/tags", json={"title": "x"}).status_code == 403
        assert api.post("/api/v1/webhooks", json={"url": "http://127.0.0.1:9/h"}).status_code in (
            403,
            404,
        )


def test_every_variable_has_a_group_and_a_label() -> None:
    described = annotate(c2_schema().describe())
    keys = {key for key, _, _ in GROUPS}
    assert all(v["group"] in keys for v in described)
    assert all(v["label"] for v in described)
    assert group_of("light0") == "lights"
    assert group_of("redGain") == "picture"
    assert group_of("rtspPort") == "streaming"
    assert group_of("httpsPort") == "network"
    assert group_of("backupActive") == "recording"
    assert group_of("pan0") == "heads"
    assert group_of("somethingNew") == "system"
    readings = {v["name"] for v in described if v["reading"]}
    assert {"oct0", "psi0", "fpgaTemp", "RPM0"} <= readings
    assert "rtspPort" not in readings
    assert label_of("first camera head light") == "First camera head light"


def test_the_schema_endpoint_carries_the_grouping(server: InProcessServer) -> None:
    with server.client() as http:
        session(http, "admin", server.admin_password)
        devices = http.get("/ui/api/devices").json()
        unit = next(d for d in devices if d["kind"] == "control-unit")
        schema = http.get(f"/ui/api/devices/{unit['name']}/schema").json()
    assert [g["key"] for g in schema["groups"]] == [key for key, _, _ in GROUPS]
    light = next(v for v in schema["variables"] if v["name"] == "light0")
    assert (light["group"], light["label"], light["reading"]) == (
        "lights",
        "First camera head light",
        False,
    )
