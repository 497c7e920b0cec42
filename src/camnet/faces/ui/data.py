"""What the dashboard needs that no dialect offers, as camnet's own resources:

    GET /ui/api/devices                  this node's devices: service name, kind, schema size
    GET /ui/api/devices/{name}/schema    the device's state schema (``Schema.describe``)
    GET /ui/api/history?since=           temperatures, pressures and storage over the last hour

The controls are generated from the schema the devices themselves validate against,
so a range shown by a slider is the range the device enforces. Both need
``fleet:devices:read`` in the node's default account, which owns this node's devices.
"""

from __future__ import annotations

import json
import math
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.devices.device import Device
from camnet.devices.history import ReadingHistory
from camnet.faces.identity.errors import ApiError
from camnet.faces.identity.resources import caller
from camnet.faces.ui.groups import annotate, group_titles
from camnet.faces.ui.headers import NO_STORE, with_security
from camnet.identity.permissions import DEFAULT_ACCOUNT

READ_ACTION = "fleet:devices:read"
Handler = Callable[[Request], Awaitable[Response]]


def _json(body: Any) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False, allow_nan=False),
        headers=with_security(NO_STORE),
        media_type="application/json",
    )


def _check(request: Request) -> None:
    principal = caller(request)
    if not principal.permissions.has_tenant(DEFAULT_ACCOUNT):
        raise ApiError(404, f"{request.url.path} not found")
    if not principal.may(DEFAULT_ACCOUNT, READ_ACTION):
        raise ApiError(403, f"{principal.user} may not {READ_ACTION}")


def _kind(device: Device, control_unit: Device) -> str:
    return "control-unit" if device is control_unit else "stereo"


def data_routes(
    devices: Sequence[Device], control_unit: Device, history: ReadingHistory
) -> list[Route]:
    def handled(handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            try:
                _check(request)
                return await handler(request)
            except ApiError as error:
                error.headers = with_security(error.headers)
                return error.response()

        return endpoint

    async def list_devices(_request: Request) -> Response:
        return _json(
            [
                {"name": d.name, "kind": _kind(d, control_unit), "variables": len(d.schema)}
                for d in devices
            ]
        )

    async def schema(request: Request) -> Response:
        name = str(request.path_params["name"])
        for device in devices:
            if device.name == name:
                described = annotate(_finite(device.schema.describe()))
                return _json({"device": name, "variables": described, "groups": group_titles()})
        raise ApiError(404, f"device {name!r} not found on this node")

    async def readings(request: Request) -> Response:
        raw = request.query_params.get("since")
        since = None
        if raw is not None:
            try:
                since = float(raw)
            except ValueError:
                since = math.nan
            if not math.isfinite(since):
                raise ApiError(
                    400,
                    "since must be unix seconds",
                    validation={"since": f"not a number: {raw!r}"},
                )
        return _json(history.snapshot(since))

    return [
        Route("/ui/api/devices", handled(list_devices), methods=["GET"], name="ui_devices"),
        Route("/ui/api/devices/{name}/schema", handled(schema), methods=["GET"], name="ui_schema"),
        Route("/ui/api/history", handled(readings), methods=["GET"], name="ui_history"),
    ]


def _finite(variables: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """JSON has no infinity: an unbounded end of a range is sent as null."""
    for entry in variables:
        bounds = entry.get("range")
        if bounds is not None:
            entry["range"] = [b if b is None or math.isfinite(b) else None for b in bounds]
    return variables
