"""Composition root: Settings → Node → the faces mounted on one ASGI application."""

from __future__ import annotations

import asyncio
import gc
import socket
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import replace

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.routing import Route

from camnet import __version__
from camnet.bus.message import service_name
from camnet.clock import Clock, SystemClock
from camnet.faces.c2.camera import camera_jpeg_route, camera_mjpeg_route
from camnet.faces.c2.context import C2Context
from camnet.faces.c2.errors import C2Error
from camnet.faces.c2.http import c2_http_route
from camnet.faces.c2.nodes import NodeContexts, node_c2_routes
from camnet.faces.c2.openapi import c2_part
from camnet.faces.c2.websocket import c2_websocket_route
from camnet.faces.fleet.common import FleetContext
from camnet.faces.fleet.errors import FleetError, is_fleet_path
from camnet.faces.fleet.errors import refuse as fleet_refuse
from camnet.faces.fleet.openapi import fleet_part
from camnet.faces.fleet.routes import fleet_routes
from camnet.faces.gallery import gallery_routes
from camnet.faces.gallery_openapi import gallery_part
from camnet.faces.gateway import GatewayConfig, gateway_route
from camnet.faces.gateway_errors import GatewayRefusal
from camnet.faces.gateway_openapi import GATEWAY_ERRORS, gateway_part
from camnet.faces.identity.descriptor import descriptor_route
from camnet.faces.identity.errors import ApiError
from camnet.faces.identity.errors import refuse as house_refuse
from camnet.faces.identity.oauth import OAuthContext, oauth_routes
from camnet.faces.identity.openapi import identity_part
from camnet.faces.identity.pauth import pauth_routes
from camnet.faces.identity.registry import DEFAULT_SERVICES, network_entries, registry_route
from camnet.faces.identity.resources import identity_resource_routes
from camnet.faces.media_status import media_status_route
from camnet.faces.openapi import REF, Schema
from camnet.faces.streams.routes import include_streams, streams_refuse
from camnet.faces.ui.data import data_routes
from camnet.faces.ui.openapi import ui_part
from camnet.faces.ui.session import session_routes
from camnet.faces.ui.static import static_routes
from camnet.identity.bootstrap import InitialCredentials
from camnet.identity.gate import Access, Gate, GateConfig, access_of, principal_of
from camnet.identity.permissions import Principal, may_read_metrics
from camnet.network.remote_nodes import NetworkCameras
from camnet.node import Node
from camnet.ops.body_limit import BodyLimit
from camnet.ops.cors import cors_options
from camnet.ops.docs_ui import docs_routes
from camnet.ops.health import health_routes
from camnet.ops.limits import ViewerLimits
from camnet.ops.metrics import Metrics, NodeCollector, RequestMiddleware
from camnet.ops.openapi import install_openapi
from camnet.settings import Settings
from camnet.store.database import StoreBusy

C2_PATHS = ("/api", "/camera.jpeg", "/camera.mjpeg")
OPEN_DOCS = ("openapi", "swagger_ui_html", "swagger_ui_redirect", "swagger_ui_asset")
STREAMS_ROUTES = (
    "streams_list",
    "streams_list_bare",
    "cameras_list",
    "cameras_list_bare",
    "camera",
    "camera_bare",
    "streams_activate",
    "streams_deactivate",
    "streams_config",
    "streams_config_update",
    "streams_control",
    "streams_control_update",
    "streams_still",
    "streams_video",
    "streams_video_socket",
)


def c2_refuse(status: int, code: str, message: str, headers: Mapping[str, str]) -> Response:
    """The gate's refusals (401, 429, 503) in the c2 dialect's error body."""
    return C2Error(status, code, message, headers=dict(headers)).response()


def gate_errors(access: Access) -> Schema:
    """The error body a route's gate refusals have, for the OpenAPI document."""
    if access.refuse is c2_refuse:
        return {"$ref": REF + "C2ErrorBody"}
    if access.refuse is fleet_refuse:
        return {"$ref": REF + "FleetErrorBody"}
    if isinstance(access.refuse, GatewayRefusal):
        return {"$ref": REF + GATEWAY_ERRORS}
    return {"$ref": REF + "HouseError"}


def declare_routes(
    gate: GateConfig,
    mjpeg_is_open: Callable[[], bool],
    streams_anonymous: Callable[[str, str | None], Principal | None] | None = None,
) -> None:
    """What each route needs. Anything not declared here is closed (``gate.default``).
    ``streams_anonymous``: who a streams request without credentials is (issue 18)."""
    c2 = Access("c2", c2_refuse)
    gate.declare("c2_api", c2)
    gate.declare("c2_api_socket", c2)
    gate.declare("c2_camera_jpeg", c2)
    gate.declare("c2_node_api", c2)
    gate.declare("c2_node_api_socket", c2)
    # The seed's mjpgStreamIsOpen: the stream may be watched without a connection token.
    gate.declare("c2_camera_mjpeg", replace(c2, open_when=mjpeg_is_open))
    gate.declare("media_status", Access("media", c2_refuse))
    token = Access("identity", house_refuse, open_methods=frozenset({"POST"}))
    gate.declare("oauth_token", replace(token, during_maintenance=True))
    for name in ("pauth_token", "oauth_revoke", "oauth_introspect"):
        # Open at the gate: the caller authenticates as a client (Basic) in the handler.
        gate.declare(name, Access("identity", house_refuse, open=True, during_maintenance=True))
    gate.declare("services_registry", Access("registry", house_refuse, open=True))
    # Issue 18: Piksel's JavaScript SDK reads these after it has a token.
    gate.declare("descriptor_raw", Access("registry", house_refuse, open=True))
    for name in ("pauth_tenants", "pauth_access"):
        gate.declare(name, Access("identity", house_refuse))
    for name in OPEN_DOCS:
        gate.declare(name, Access("camnet", house_refuse, open=True))
    gate.declare("maintenance", Access("camnet", house_refuse, during_maintenance=True))
    streams = Access(
        "streams", house_refuse, own_refuse=streams_refuse, anonymous=streams_anonymous
    )
    for name in STREAMS_ROUTES:
        gate.declare(name, streams)
    fleet = Access("fleet", fleet_refuse)
    for name in (
        "fleet_api_keys",
        "fleet_devices",
        "fleet_device",
        "fleet_device_update",
        "fleet_device_image",
        "fleet_webhooks",
        "fleet_webhook_create",
        "fleet_webhook_update",
        "fleet_webhook_delete",
        "fleet_webhook_deliveries",
    ):
        gate.declare(name, fleet)
    # Signing in needs no credentials; an image link carries its own signature.
    for name in ("fleet_login", "fleet_refresh", "fleet_image"):
        gate.declare(name, replace(fleet, open=True))
    for name in ("data_recordings", "data_recording", "data_recording_file", "data_tags"):
        gate.declare(name, Access("recording", house_refuse))
    gate.declare("data_tag", Access("recording", house_refuse))
    # The dashboard: its files and its sign-in are open; everything else it reads is not.
    ui = Access("ui", house_refuse)
    for name in ("ui_index", "ui_static"):
        gate.declare(name, replace(ui, open=True))
    gate.declare("ui_sign_in", replace(ui, open=True))
    for name in ("ui_session", "ui_devices", "ui_schema", "ui_history"):
        gate.declare(name, ui)
    # Issue 11: probes need no credentials; /metrics does unless metrics_open is set.
    for name in ("healthz", "readyz"):
        gate.declare(name, Access("camnet", house_refuse, open=True, during_maintenance=True))


SECRETS_RULE = "=" * 78
"""The line above and below the first-start secrets, so they stand out from log lines."""


def print_initial_credentials(credentials: InitialCredentials) -> None:
    """Show first-start secrets once, on stdout (never in the logs), as a framed block
    printed after the listening line, where the operator looks last."""
    if not credentials.any:
        return
    lines = [
        SECRETS_RULE,
        "camnet created its users. These secrets are shown once and stored hashed:",
    ]
    # Secrets the operator configured are not repeated: they would only end up in logs.
    if credentials.admin_password is not None:
        shown = credentials.admin_password if credentials.admin_generated else "(as configured)"
        lines.append(f"  admin password : {shown}")
    if credentials.api_token is not None:
        shown = credentials.api_token if credentials.token_generated else "(as configured)"
        lines.append(f"  API-User token : {shown}")
    lines.append("Lost one? New API-User token: camnet token rotate")
    lines.append("          New admin password: camnet user passwd admin")
    lines.append(SECRETS_RULE)
    print("\n".join(lines), file=sys.stdout, flush=True)


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    listen_urls: tuple[str, ...] = (),
    on_credentials: Callable[[InitialCredentials], None] = print_initial_credentials,
    on_ready: Callable[[], None] | None = None,
    http_socket: socket.socket | None = None,
) -> FastAPI:
    node = Node(settings, clock or SystemClock(), listen_urls)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        credentials = await node.start()
        # Everything allocated so far lives as long as the process: keep it out of the
        # cyclic collector's full passes, which otherwise stall the loop now and then.
        gc.collect()
        gc.freeze()
        if on_ready is not None:
            on_ready()
        on_credentials(credentials)
        try:
            yield
        finally:
            node_contexts.stop()
            await node.stop()

    app = FastAPI(
        title="camnet", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None
    )
    app.router.routes.extend(docs_routes("camnet"))  # /docs with its files, no CDN
    app.state.node = node
    metrics = Metrics()
    app.state.metrics = metrics
    viewers = ViewerLimits(
        settings.mjpeg_max_viewers_per_stream,
        settings.mjpeg_max_viewers_per_token,
        metrics.refused,
    )
    metrics.registry.register(NodeCollector(node))
    c2 = C2Context(
        device=node.control_unit,
        authenticator=node.authenticator,
        fanout=node.c2_fanout,
        max_body_bytes=settings.max_body_bytes,
        policy=node.policy,
        viewers=viewers,
        snapshot_timeout=settings.snapshot_timeout,
        ws_max_message_bytes=settings.ws_max_message_bytes,
        on_refusal=metrics.refused,
    )
    app.router.routes.extend([c2_http_route(c2), c2_websocket_route(c2)])
    node_contexts = NodeContexts(c2, settings.machine_name, node.remote, node.bus)
    app.router.routes.extend(node_c2_routes(node_contexts))
    oauth = OAuthContext(
        identity=node.identity,
        policy=node.policy,
        per_address=node.token_limiter,
        per_client=node.token_client_limiter,
    )
    base_url = settings.advertised_url or _base_url(listen_urls)
    app.router.routes.extend(oauth_routes(oauth))
    app.router.routes.extend(pauth_routes(node.identity))
    app.router.routes.append(
        descriptor_route(node.identity, lambda: app.openapi(), settings.machine_name)
    )
    app.router.routes.append(
        registry_route(
            node.identity,
            base_url,
            DEFAULT_SERVICES,
            network_entries(node.presence, base_url, lambda: node.gateway_listener.url),
        )
    )
    app.router.routes.append(
        gateway_route(
            node.bus,
            GatewayConfig(
                service=service_name(settings.machine_name, "Gateway"),
                max_body_bytes=settings.max_body_bytes,
            ),
        )
    )
    app.router.routes.extend(
        identity_resource_routes(node.identity, node.maintenance, node.maintenance_switch)
    )
    fleet = FleetContext(
        node.fleet,
        node.identity,
        max_page_size=settings.max_page_size,
        on_refusal=metrics.refused,
    )
    app.router.routes.extend(fleet_routes(fleet))
    app.router.routes.extend(
        gallery_routes(node.recording, node.database, settings.max_page_size, metrics.refused)
    )
    app.router.routes.extend(static_routes())
    app.router.routes.extend(session_routes(oauth))
    app.router.routes.extend(data_routes(node.devices, node.control_unit, node.history))
    gate = GateConfig(
        policy=node.policy,
        limiter=node.limiter,
        default=Access("camnet", house_refuse),
        maintenance=node.maintenance,
        live=node.live,
    )
    declare_routes(
        gate,
        lambda: bool(node.control_unit.state["mjpgStreamIsOpen"]),
        lambda address, origin: node.streams_anonymous.principal_for(address, "streams", origin),
    )
    gate.declare("metrics", Access("metrics", house_refuse, open=settings.metrics_open))
    # Issue 18: the Gateway's clients have nowhere to put credentials but the query, and
    # read every answer as an array of messages.
    gate.declare(
        "gateway_publish",
        Access(
            "network",
            GatewayRefusal(service_name(settings.machine_name, "Gateway")),
            anonymous=lambda address, _origin: node.anonymous.principal_for(address, "Gateway"),
            query_access_token=True,
        ),
    )
    app.add_middleware(Gate, router=app.router, config=gate)
    # Outside the gate: an oversized body is refused before anything reads it.
    app.add_middleware(
        BodyLimit,
        limit=settings.max_body_bytes,
        refusal=lambda scope: access_of(app.router, gate, scope).limit_refuse,
    )
    if settings.cors_origins:
        # Outside the gate: a browser's preflight carries no credentials (ops/cors.py).
        app.add_middleware(CORSMiddleware, **cors_options(settings.cors_origins))
    app.add_middleware(RequestMiddleware, router=app.router, metrics=metrics)
    app.router.routes.extend([*health_routes(node), metrics_route(metrics)])
    app.router.routes.extend(
        [
            camera_jpeg_route(c2, node.media.live),
            camera_mjpeg_route(c2, node.media.live),
            media_status_route(c2, node.media),
        ]
    )

    include_streams(app, NetworkCameras(node.stereo, node.remote), viewers, node.encoders)
    # The HTTP listener on the caller's socket (and HTTPS) run inside the node, so the
    # c2 state can switch them; without a socket the caller runs HTTP itself.
    node.listeners.attach(app, http_socket, listen_urls, metrics.refused)
    node.gateway_listener.attach(app, node.listeners.guard)

    parts = [
        c2_part(node.control_unit.schema),
        fleet_part(),
        identity_part(),
        gallery_part(),
        gateway_part(),
        ui_part(),
    ]
    install_openapi(app, gate, parts, gate_errors)

    @app.exception_handler(C2Error)
    async def c2_error(_request: Request, exc: C2Error) -> Response:
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = dict(exc.headers or {})
        if is_fleet_path(request.url.path):
            return FleetError(exc.status_code, str(exc.detail), headers=headers).response()
        if request.url.path in C2_PATHS:
            code = {405: "method_not_allowed", 404: "not_found"}.get(exc.status_code, "error")
            error = C2Error(exc.status_code, code, str(exc.detail), headers=headers)
            return error.response()
        return ApiError(exc.status_code, str(exc.detail), headers=headers).response()

    @app.exception_handler(StoreBusy)
    async def store_busy(request: Request, exc: StoreBusy) -> Response:
        # The database stayed locked (another process): nothing was written; say so.
        message = f"{exc}; nothing was changed, please try again"
        headers = {"Retry-After": "1"}
        if request.url.path in C2_PATHS:
            return C2Error(503, "database_busy", message, headers=headers).response()
        if is_fleet_path(request.url.path):
            return FleetError(503, message, headers=headers).response()
        # The identity seed: 502 is "a problem due to an upstream dependency" (the
        # database); its 503 means maintenance.
        return ApiError(502, message, headers=headers).response()

    @app.exception_handler(Exception)
    async def unexpected(request: Request, _exc: Exception) -> Response:
        # Starlette logs the exception and re-raises it after this answer is sent.
        message = "camnet had a problem with this request; please try again later"
        if request.url.path in C2_PATHS:
            return C2Error(500, "internal_error", message).response()
        if is_fleet_path(request.url.path):
            return FleetError(500, message).response()
        return ApiError(500, message).response()

    return app


def metrics_route(metrics: Metrics) -> Route:
    """``/metrics`` in the Prometheus text format; rendered off the loop (the collector
    reads the database)."""

    async def render(request: Request) -> Response:
        principal = principal_of(request.scope)  # None: the setting metrics_open
        if principal is not None and not may_read_metrics(principal):
            return ApiError(403, f"{principal.user} may not read the node's metrics").response()
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return Route("/metrics", render, methods=["GET"], name="metrics")


def _base_url(listen_urls: tuple[str, ...]) -> str:
    for url in listen_urls:
        return url.removesuffix("/api")
    return "http://127.0.0.1:8080"
