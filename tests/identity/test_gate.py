"""Closed unless declared open: every route of the application, walked without
credentials, answers 401, except the routes on the open list below. A route added later
is closed by default, and opening one means changing this list too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import websockets
from starlette.routing import Route, WebSocketRoute

from tests.inprocess import InProcessServer, inprocess_server

OPEN = {
    ("oauth_token", "POST"),
    ("pauth_token", "POST"),
    ("oauth_revoke", "POST"),
    ("oauth_introspect", "POST"),
    ("services_registry", "GET"),
    ("services_registry", "HEAD"),
    ("descriptor_raw", "GET"),
    ("descriptor_raw", "HEAD"),
    ("openapi", "GET"),
    ("openapi", "HEAD"),
    ("swagger_ui_html", "GET"),
    ("swagger_ui_html", "HEAD"),
    ("swagger_ui_redirect", "GET"),
    ("swagger_ui_redirect", "HEAD"),
    ("swagger_ui_asset", "GET"),
    ("swagger_ui_asset", "HEAD"),
    ("fleet_login", "POST"),
    ("fleet_refresh", "POST"),
    ("fleet_image", "GET"),
    ("fleet_image", "HEAD"),
    ("ui_index", "GET"),
    ("ui_index", "HEAD"),
    ("ui_static", "GET"),
    ("ui_static", "HEAD"),
    ("ui_sign_in", "POST"),
    ("healthz", "GET"),
    ("healthz", "HEAD"),
    ("readyz", "GET"),
    ("readyz", "HEAD"),
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("gate")) as running:
        yield running


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def test_every_route_is_closed_unless_declared_open(server: InProcessServer) -> None:
    seen_open = set()
    checked = 0
    with server.client() as http:
        for route in server.app.router.routes:
            if not isinstance(route, Route):
                continue
            for method in sorted(route.methods or {"GET"}):
                response = http.request(method, concrete(route.path))
                checked += 1
                if (route.name, method) in OPEN:
                    seen_open.add((route.name, method))
                    assert response.status_code < 500, (route.path, method, response.text)
                    continue
                assert response.status_code == 401, (route.path, method, response.status_code)
                assert "www-authenticate" in response.headers
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            assert http.request(method, "/no/such/route").status_code == 401
    assert seen_open == OPEN
    assert checked > 20


async def test_every_websocket_route_refuses_the_upgrade(server: InProcessServer) -> None:
    routes = [r for r in server.app.router.routes if isinstance(r, WebSocketRoute)]
    assert routes
    base = server.url.replace("http://", "ws://")
    for route in routes:
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(base + concrete(route.path)):
                pass
        assert refused.value.response.status_code == 401


def test_declared_routes_still_answer_with_credentials(server: InProcessServer) -> None:
    with server.client(auth=("admin", server.admin_password)) as http:
        assert http.get("/accounts").status_code == 200
        assert http.get("/api").status_code == 200
        assert http.get("/no/such/route").status_code == 404


def test_open_routes_need_nothing(server: InProcessServer, tmp_path: Path) -> None:
    del tmp_path
    with httpx.Client(base_url=server.url) as http:
        registry = http.get("/services/default")
        assert registry.status_code == 200
        names = [s["name"] for s in registry.json()["services"]]
        assert {"identity", "registry", "c2"} <= set(names)
        assert all(s["location"] == server.url for s in registry.json()["services"])
        missing = http.get("/services/nobody")
        assert missing.status_code == 404
        assert missing.json() == {
            "statusCode": 404,
            "error": "Not Found",
            "message": "account 'nobody' not found",
        }


def test_dashboard_cookie_needs_its_csrf_header_on_every_closed_write(
    server: InProcessServer,
) -> None:
    """The dashboard's session cookie passes the same gate: on every closed route, a
    state-changing request carrying only the cookie is refused without the session's
    CSRF header (reads with it are shown to work by tests/ui/test_session.py)."""
    with server.client() as http:
        signed_in = http.post(
            "/ui/session", json={"username": "admin", "password": server.admin_password}
        )
        assert signed_in.status_code == 200
        writes = 0
        for route in server.app.router.routes:
            if not isinstance(route, Route):
                continue
            for method in sorted(route.methods or {"GET"}):
                if (route.name, method) in OPEN or method in ("GET", "HEAD"):
                    continue
                writes += 1
                response = http.request(method, concrete(route.path))
                assert response.status_code == 401, (route.path, method)
        assert writes > 10
