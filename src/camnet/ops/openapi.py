"""``/openapi.json`` for every finite HTTP route, not only FastAPI's own.

FastAPI generates the streams dialect's paths from its routes. The other faces are plain
Starlette routes that FastAPI cannot see; each describes itself in its ``openapi.py``
(``camnet.faces.openapi.Part``) and ``install_openapi`` replaces ``app.openapi`` with a
function that keeps FastAPI's document and adds those parts, this module's own
(``/healthz``, ``/readyz``, ``/metrics``) included.

Who may call what is not restated by hand: for each operation the route it names is found
in the application and its declaration at the gate decides the ``security`` (none on an
open route) and the gate's own answers (401 without credentials, 429 over the rate limit,
503 in maintenance mode), in the error body of that route's dialect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import _IncludedRouter
from pydantic import BaseModel, ConfigDict
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute

from camnet.faces.openapi import Part, Schema, answer, operation
from camnet.identity.browser import COOKIE_NAME
from camnet.identity.gate import Access, GateConfig

HTTP_METHODS: Final = ("get", "put", "post", "delete", "patch", "options", "head", "trace")
SECURITY_SCHEMES: Final[dict[str, Schema]] = {
    "basic": {"type": "http", "scheme": "basic", "description": "a user and its password"},
    "bearer": {"type": "http", "scheme": "bearer", "description": "an access token"},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
    "queryToken": {
        "type": "apiKey",
        "in": "query",
        "name": "token",
        "description": "the c2 seed's query token (the API-User's, an access token or an "
        "API key); with user= it is that user's password",
    },
    "dashboardCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": COOKIE_NAME,
        "description": "the dashboard's session; needs X-Camnet-CSRF and a same-origin "
        "Origin on every request",
    },
}
CLOSED: Final[list[dict[str, list[str]]]] = [{name: []} for name in SECURITY_SCHEMES]
"""Any one of the ways in the gate accepts."""


@dataclass(frozen=True, slots=True)
class RouteInfo:
    """One route of the application, wherever it is mounted."""

    path: str
    name: str
    methods: frozenset[str]
    """Lower-case HTTP methods; empty for a WebSocket route."""
    websocket: bool = False


def walk_routes(routes: Iterable[BaseRoute], prefix: str = "") -> Iterator[RouteInfo]:
    """Every route, through mounts and FastAPI's included routers."""
    for route in routes:
        if isinstance(route, Route):
            methods = frozenset(m.lower() for m in route.methods or ())
            yield RouteInfo(prefix + route.path, route.name, methods)
        elif isinstance(route, WebSocketRoute):
            yield RouteInfo(prefix + route.path, route.name, frozenset(), websocket=True)
        elif isinstance(route, Mount):
            yield from walk_routes(route.routes, prefix + route.path)
        elif isinstance(route, _IncludedRouter):
            inner = prefix + route.include_context.prefix
            yield from walk_routes(route.original_router.routes, inner)
        else:
            raise TypeError(f"a route of an unknown kind: {route!r}")


class Liveness(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: str


class Readiness(BaseModel):
    """``/readyz``: each check's outcome (``ok`` or why not), the names that failed, and
    the informational checks (shown, never making the node not ready: the MQTT bridge)."""

    model_config = ConfigDict(extra="forbid")
    status: str
    checks: dict[str, str]
    failed: list[str]
    informational: list[str]


def ops_part() -> Part:
    part = Part()
    alive = part.model(Liveness, mode="serialization")
    ready = part.model(Readiness, mode="serialization")
    part.add(
        "/healthz",
        "get",
        operation("healthz", "ops", "The server answers", {"200": answer("alive", alive)}),
    )
    part.add(
        "/readyz",
        "get",
        operation(
            "readyz",
            "ops",
            "The node can do its work: database, bus, storages",
            {"200": answer("ready", ready), "503": answer("a check failed", ready)},
        ),
    )
    metrics = {"200": answer("the Prometheus text format", {"type": "string"}, "text/plain")}
    part.add("/metrics", "get", operation("metrics", "ops", "Prometheus metrics", metrics))
    return part


GateErrors = Callable[[Access], Schema]
"""The error body (a schema, or a ``$ref``) a route's gate refusals are worded in."""


def apply_gate(document: dict[str, Any], app: FastAPI, gate: GateConfig, body: GateErrors) -> None:
    """Security and the gate's refusals of every operation, from the gate's declarations."""
    names: dict[tuple[str, str], str] = {}
    for route in walk_routes(app.routes):
        for method in route.methods:
            names.setdefault((route.path, method), route.name)
    for path, item in document["paths"].items():
        for method, described in item.items():
            if method not in HTTP_METHODS:
                continue
            name = names.get((path, method))
            if name is None:
                raise ValueError(f"{method.upper()} {path} is described but not served")
            access = gate.declarations.get(name, gate.default)
            responses = described.setdefault("responses", {})
            error = body(access)
            scope = {"method": method.upper()}
            if access.is_open(scope) and access.open_when is None:
                # Open at the gate; a face may say what its handler asks for itself.
                described.setdefault("security", [])
            else:
                described["security"] = CLOSED
                _refusal(responses, "401", "no valid credentials", error)
                _refusal(responses, "429", "over the rate limit; see Retry-After", error)
            if not access.during_maintenance:
                _refusal(responses, "503", "maintenance mode; see Retry-After", error)


def _refusal(responses: dict[str, Schema], status: str, why: str, error: Schema) -> None:
    """Add the gate's answer; where the handler has its own of that status in another
    body (the streams dialect's 503 ``{"detail"}``), the response may be either."""
    known = responses.get(status)
    if known is None:
        responses[status] = answer(why, error)
        return
    body = known.setdefault("content", {}).setdefault("application/json", {})
    schema = body.get("schema")
    if schema is None:
        body["schema"] = error
    elif schema != error and error not in schema.get("anyOf", ()):
        body["schema"] = {"anyOf": [*schema.get("anyOf", [schema]), error]}
    if why not in known.get("description", ""):
        known["description"] = f"{known.get('description', '')}; or {why}".lstrip("; ")


def _without_null_defaults(schema: Any) -> Any:
    if isinstance(schema, dict):
        return {
            key: _without_null_defaults(value)
            for key, value in schema.items()
            if not (key == "default" and value is None)
        }
    if isinstance(schema, list):
        return [_without_null_defaults(value) for value in schema]
    return schema


def _same(known: Schema, added: Schema) -> bool:
    """Whether two schemas of one name agree (FastAPI leaves out ``"default": null``)."""
    return bool(_without_null_defaults(known) == _without_null_defaults(added))


def install_openapi(
    app: FastAPI, gate: GateConfig, parts: Sequence[Part], gate_errors: GateErrors
) -> None:
    """Make ``app.openapi()`` describe ``parts`` besides FastAPI's own routes."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = get_openapi(
            title=app.title,
            version=app.version,
            openapi_version=app.openapi_version,
            description=app.description,
            routes=app.routes,
        )
        paths = document.setdefault("paths", {})
        components = document.setdefault("components", {})
        schemas = components.setdefault("schemas", {})
        for part in [*parts, ops_part()]:
            for path, item in part.paths.items():
                for method, described in item.items():
                    if method in paths.get(path, {}):
                        raise ValueError(f"{method.upper()} {path} is described twice")
                    paths.setdefault(path, {})[method] = described
            for name, schema in part.schemas.items():
                if not _same(schemas.setdefault(name, schema), schema):
                    raise ValueError(f"two different schemas are both called {name!r}")
        components["securitySchemes"] = dict(SECURITY_SCHEMES)
        apply_gate(document, app, gate, gate_errors)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]
