"""schemathesis against the application's own OpenAPI document, served by a real server
on a loopback port.

``/openapi.json`` describes every finite HTTP route of every dialect: c2, streams,
fleet, identity (tokens, registry, accounts), gallery, Gateway, dashboard and the ops
probes (``tests/ops/test_openapi.py`` checks that no route is left out). Left out, and
not generated here: ``/camera.mjpeg`` and the streams dialect's ``…/video`` (endless
MJPEG streams, which OpenAPI cannot describe as a finite response to validate) and the
WebSockets (not HTTP requests).

Fixed budget and a fixed seed (``derandomize``), so ``make test`` stays well under two
minutes and a failure repeats. Checks: no 5xx, every status code documented, every
content type documented, every body matching its documented schema.

Who calls what, and why:

- the admin (HTTP Basic) calls everything except:
- the c2 routes, called as the API-User: the admin may write the listeners and ports, and
  a generated ``httpOn=false`` would switch off the listener this test talks to;
- the fleet routes and ``GET /oauth/token`` (verification), called with the bearer token
  of a fleet sign-in, as a fleet client does.

What is steered, and why: a generated ``username`` is always a sacrificial user (never
the admin, whose password the test needs); ``PUT /maintenance`` is followed by switching
maintenance off again (on, every other route answers 503); webhook URLs are drawn from
IP-literal URLs (a random host name would make the SSRF guard ask DNS, and only loopback
traffic is allowed), one of them on the allow list so webhooks are created and delivered
to a closed loopback port. Half of the cases name a resource that exists (the camera,
a device, a webhook, a tag, an account, a file), since random names are all 404s.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.settings import default_machine_name
from tests.recording.helpers import wait_for
from tests.support import ServerProcess

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 12
"""Per operation; with the fixed seed the whole test takes well under two minutes."""
SLOW_EXAMPLES = 4
"""The Gateway waits up to 2 s for an answer that no random target gives."""
MXID = default_stereo_mxid(default_machine_name())
"""The default stereo camera of a server on this machine (derived from its name)."""
"""The simulated stereo camera of a default server."""
STREAMS = ("CAM_A", "CAM_B", "CAM_C", "DEPTH_B_C", "CAM_H")
"""Its streams, and one it does not have."""
MACHINE = "schemathesis"
"""The node's machine name (``/nodes/{machine}/api`` of its own control unit)."""
TARGET_USER = "schemathesis-target"
"""The user generated PATCHes change (never the admin: its password signs this test in)."""
ALLOWED_HOOK = "http://127.0.0.1:9/hook"
"""On the fixture's webhook allow list; port 9 (discard) is closed, deliveries fail."""
HOOK_URLS = (ALLOWED_HOOK, "http://10.1.2.3/hook", "https://[::1]:1/x", "ftp://127.0.0.1/x")


def basic(user: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


@dataclass(frozen=True)
class Fixture:
    """The server and what exists on it."""

    server: ServerProcess
    admin: dict[str, str]
    api_user: dict[str, str]
    bearer: dict[str, str]
    real: dict[str, tuple[str, ...]]
    """Path parameter → values that name something that exists."""


def populate(http: httpx.Client, admin_password: str) -> tuple[dict[str, str], dict[str, Any]]:
    """A fleet session, and one of each resource the generated cases may aim at."""
    user = {"username": TARGET_USER, "password": "correct horse", "role": "viewer"}
    assert http.post("/accounts/default/users", json=user).status_code == 201
    session = http.post(
        "/api/v1/auth/login", json={"email": "admin@localhost", "password": admin_password}
    )
    assert session.status_code == 200, session.text
    bearer = {"Authorization": "Bearer " + session.json()["data"]["access_token"]}
    devices = http.get("/api/v1/devices", headers=bearer).json()["data"]
    links = []
    for device in devices:
        made = http.post(f"/api/v1/devices/{device['uuid']}/image", headers=bearer)
        if made.status_code == 200:
            links += [link.rsplit("/", 1)[1] for link in made.json()["data"]]
    hook = http.post("/api/v1/webhooks", json={"url": ALLOWED_HOOK}, headers=bearer)
    assert hook.status_code == 201, hook.text
    # At a given moment: a tag "now" would also start Visual Backup (as c2's createTag).
    tag = http.post("/data/tags", json={"title": "schemathesis", "creationTime": time.time()})
    assert tag.status_code == 201, tag.text
    assert http.get("/api", params={"record": "start"}).json() == {"record": "start"}
    time.sleep(1.5)  # a recording of a second or so: something to page through and fetch
    assert http.get("/api", params={"record": "stop"}).json() == {"record": "stop"}
    recordings = wait_for(
        lambda: [r for r in http.get("/data/recordings").json()["recordings"] if not r["open"]],
        what="a closed recording",
    )
    real = {
        "mxid": (MXID,),
        "stream_name": STREAMS,
        "device_uuid": tuple(d["uuid"] for d in devices),
        "link": tuple(links),
        "webhook_id": (str(hook.json()["data"]["id"]),),
        "account": ("default",),
        "machine": (MACHINE,),
        "name": ("app.js", "index.html", *(d["name"] for d in http.get("/ui/api/devices").json())),
        "version": ("v1",),
        "tag": (str(tag.json()["id"]),),
        "recording": tuple(str(r["id"]) for r in recordings),
    }
    return bearer, real


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fixture]:
    process = ServerProcess(
        tmp_path_factory.mktemp("schemathesis"),
        env={"CAMNET_WEBHOOK_ALLOW": "127.0.0.1/32", "CAMNET_MACHINE_NAME": MACHINE},
    ).start()
    try:
        admin = basic("admin", process.admin_password)
        with httpx.Client(base_url=process.url, headers=admin, timeout=10) as http:
            bearer, real = populate(http, process.admin_password)
        yield Fixture(process, admin, basic("API-User", process.token), bearer, real)
    finally:
        process.stop()


def credentials(api: Fixture, path: str, method: str) -> dict[str, str]:
    if path in ("/api", "/nodes/{machine}/api", "/camera.jpeg", "/media/status"):
        return api.api_user
    if path.startswith("/api/v1/") or (path, method) == ("/oauth/token", "GET"):
        return api.bearer
    return api.admin


def aim(case: schemathesis.Case[Any], api: Fixture, draw: Callable[[Any], Any]) -> None:
    """Point about half of the generated cases at things that exist."""
    params = dict(case.path_parameters or {})
    real = draw(st.booleans())
    if real:
        for key in params:
            if key == "id":  # /data/tags/{id} and /data/recordings/{id}
                kind = "tag" if case.operation.path.startswith("/data/tags") else "recording"
                choices = api.real[kind]
            else:
                choices = api.real.get(key, ())
            if choices:
                params[key] = draw(st.sampled_from(choices))
    if "username" in params:
        params["username"] = TARGET_USER if real else params["username"]
        if params["username"].lower() in ("admin", "api-user"):
            params["username"] = TARGET_USER
    case.path_parameters = params
    hook = case.operation.path.startswith("/api/v1/webhooks")
    if hook and isinstance(case.body, dict) and "url" in case.body:
        case.body = {**case.body, "url": draw(st.sampled_from(HOOK_URLS))}


def check_operation(operation: Any, api: Fixture, http: httpx.Client) -> None:
    """Generated cases of one operation, each called and validated."""
    path, method = operation.path, operation.method.upper()
    headers = credentials(api, path, method)
    switches_maintenance = (path, method) == ("/maintenance", "PUT")

    @given(case=operation.as_strategy(), data=st.data())
    @settings(
        max_examples=SLOW_EXAMPLES if path.startswith("/gateway/") else EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def conforms(case: schemathesis.Case[Any], data: st.DataObject) -> None:
        aim(case, api, data.draw)
        try:
            case.call_and_validate(base_url=api.server.url, headers=headers, checks=CHECKS)
        finally:
            if switches_maintenance:
                off = http.put("/maintenance", json={"active": False})
                assert off.status_code == 200, off.text

    conforms()


def test_api_matches_its_openapi(api: Fixture) -> None:
    loaded = schemathesis.openapi.from_url(api.server.url + "/openapi.json")
    # Credentials are this test's (``credentials``), not random values of the schemes.
    loaded.config.generation.update(with_security_parameters=False)
    operations = []
    for result in loaded.get_all_operations():
        assert isinstance(result, Ok), f"the document does not load: {result}"
        operations.append(result.ok())
    assert len(operations) >= 60, "every dialect's routes are described"
    # Deletions last: before, they would remove what the other operations' cases aim at.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    with httpx.Client(base_url=api.server.url, headers=api.admin, timeout=10) as http:
        for operation in operations:
            check_operation(operation, api, http)
