"""``/openapi.json`` describes every finite HTTP route of the application.

Every route (walked through mounts and FastAPI's included routers) is either in the
document or in ``EXCLUDED`` below, with the reason; so a route added later cannot be
forgotten, and an exclusion cannot outlive its route. Whether the document is *true*
is ``test_schemathesis.py``'s question; this one asks whether it is *complete*, and
whether what it derives from the code (security from the gate, the c2 state from the
control unit's schema) is derived.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from camnet.ops.openapi import CLOSED, walk_routes
from camnet.state.schema import Kind
from tests.inprocess import InProcessServer, inprocess_server

STREAM = "an endless MJPEG stream: no finite response a document can describe or a client validate"
EXCLUDED: dict[tuple[str, str], str] = {
    ("/camera.mjpeg", "get"): STREAM,
    ("/cameras/{mxid}/streams/{stream_name}/video", "get"): STREAM,
    ("/api", "websocket"): "the c2 WebSocket: not an HTTP request/response (docs/c2.md)",
    ("/nodes/{machine}/api", "websocket"): "the c2 WebSocket of another node, as /api's",
    ("/cameras/{mxid}/streams/{stream_name}/video", "websocket"): (
        "the streams fMP4 live view: a WebSocket of endless binary fragments (docs/streams.md)"
    ),
    ("/cameras", "get"): "/cameras/ without the slash, as Robopipe Studio asks (same answer)",
    ("/cameras/{mxid}", "get"): "/cameras/{mxid}/ without the slash (same answer)",
    ("/cameras/{mxid}/streams", "get"): "/cameras/{mxid}/streams/ without the slash (same)",
    ("/openapi.json", "get"): "the document itself",
    ("/docs", "get"): "the Swagger UI page that shows the document",
    ("/docs/oauth2-redirect", "get"): "the Swagger UI's OAuth2 redirect page",
    ("/docs/assets/{name}", "get"): "the Swagger UI's own files, served by camnet (no CDN)",
}
"""(path, method) → why it is not in the document. HEAD is not listed: every HEAD is
answered by its GET's handler, which the document describes."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("openapi")) as running:
        yield running


@pytest.fixture(scope="module")
def document(server: InProcessServer) -> dict[str, Any]:
    with httpx.Client(base_url=server.url) as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def served(server: InProcessServer) -> set[tuple[str, str]]:
    operations = set()
    for route in walk_routes(server.app.routes):
        if route.websocket:
            operations.add((route.path, "websocket"))
        operations.update((route.path, method) for method in route.methods if method != "head")
    return operations


def test_every_route_is_described_or_excluded_with_a_reason(
    server: InProcessServer, document: dict[str, Any]
) -> None:
    described = {(path, method) for path, item in document["paths"].items() for method in item}
    routes = served(server)
    forgotten = routes - described - set(EXCLUDED)
    assert not forgotten, f"routes neither described nor excluded: {sorted(forgotten)}"
    assert not described - routes, "the document describes what nobody serves"
    assert not described & set(EXCLUDED), "an excluded route is in the document"
    assert set(EXCLUDED) <= routes, "an exclusion outlived its route"
    assert len(described) >= 60


def test_every_dialect_is_in_the_document(document: dict[str, Any]) -> None:
    paths = document["paths"]
    for path in (
        "/api",
        "/cameras/{mxid}/streams/",
        "/api/v1/devices",
        "/oauth/token",
        "/accounts/{account}/users/{username}",
        "/data/tags/{id}",
        "/gateway/{version}/publish",
        "/ui/session",
        "/readyz",
    ):
        assert path in paths, path


def test_security_and_refusals_come_from_the_gate(document: dict[str, Any]) -> None:
    paths = document["paths"]
    assert set(document["components"]["securitySchemes"]) == {
        "basic",
        "bearer",
        "apiKey",
        "queryToken",
        "dashboardCookie",
    }
    # Open at the gate: no security, no 401 from the gate.
    for path, method in (("/healthz", "get"), ("/api/v1/auth/login", "post"), ("/", "get")):
        assert paths[path][method]["security"] == [], path
    for path in ("/healthz", "/"):
        assert not {"401", "429"} & set(paths[path]["get"]["responses"]), path
    # Closed: every way in the gate accepts, and its refusals in the route's dialect.
    refusals = {
        ("/api", "get"): "C2ErrorBody",
        ("/api/v1/devices", "get"): "FleetErrorBody",
        ("/accounts", "get"): "HouseError",
        ("/metrics", "get"): "HouseError",
        ("/cameras/{mxid}/streams/", "get"): "HouseError",
    }
    for (path, method), body in refusals.items():
        described = paths[path][method]
        assert described["security"] == CLOSED, path
        for status in ("401", "429", "503"):
            schema = described["responses"][status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": f"#/components/schemas/{body}"}, (path, status)
    # A handler's own 503 in another body: the answer may be either.
    activate = paths["/cameras/{mxid}/streams/{stream_name}/"]["post"]["responses"]["503"]
    assert activate["content"]["application/json"]["schema"] == {
        "anyOf": [
            {"$ref": "#/components/schemas/Detail"},
            {"$ref": "#/components/schemas/HouseError"},
        ]
    }
    # The token endpoint stays up in maintenance mode (it is how an admin gets in).
    assert "503" not in paths["/oauth/token"]["post"]["responses"]
    assert paths["/oauth/token"]["post"]["security"] == [{"basic": []}]


def test_the_c2_state_is_the_control_units_schema(
    server: InProcessServer, document: dict[str, Any]
) -> None:
    state = document["components"]["schemas"]["C2State"]["properties"]
    schema = server.app.state.node.control_unit.schema
    assert set(state) == {v.name for v in schema if v.access}
    for variable in schema:
        described = state[variable.name]
        if variable.readable and variable.kind is Kind.ENUM:
            assert set(variable.options) <= set(described["enum"]), variable.name
        if variable.readable and variable.kind is Kind.BOOL:
            assert "boolean" in described["type"], variable.name
