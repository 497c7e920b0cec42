"""``/api/v1/devices``: the registry (paged, sorted, filtered), one device, its edit
(versioned: ``ETag``/``If-Match``, 412 on a stale version) and image requests.

Tenancy: a device in an account the caller cannot read does not exist for it (404).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.fleet.common import (
    FleetContext,
    caller,
    fleet,
    json_body,
    json_response,
    validate,
)
from camnet.faces.fleet.errors import FleetError
from camnet.fleet.images import NoImageSource, TooManyImages
from camnet.fleet.paging import online_filter, sort_key, sorted_by
from camnet.fleet.registry import SORTABLE, DeviceRecord, VersionConflict
from camnet.identity.accounts import ACCOUNT_NAME
from camnet.identity.permissions import Principal, Role
from camnet.web.numbers import decimal

TEXT = Field(None, max_length=255)


class DeviceChange(BaseModel):
    """The editable fields; the seed's read-only fields are accepted and ignored."""

    model_config = ConfigDict(extra="ignore")
    name: str | None = Field(None, min_length=1, max_length=255)
    client_identifier: str | None = TEXT
    geo_city: str | None = TEXT
    geo_country: str | None = TEXT
    group: str | None = TEXT
    account: str | None = Field(None, pattern=ACCOUNT_NAME.pattern)


def etag(device: DeviceRecord) -> dict[str, str]:
    return {"ETag": f'"{device.version}"'}


def if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    version = decimal(value.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise FleetError(412, 'If-Match must name a version of the device, e.g. "3"')
    return version


def device_routes(context: FleetContext) -> list[Route]:
    registry = context.fleet.registry
    images = context.fleet.images

    async def visible(principal: Principal, device_uuid: str, action: str) -> DeviceRecord:
        device = await registry.get(device_uuid)
        if device is None or not principal.may(device.account, "fleet:devices:read"):
            raise FleetError(404, f"device {device_uuid} not found")
        if not principal.may(device.account, action):
            raise FleetError(403, f"you may not {action.rsplit(':', 1)[1]} this device")
        return device

    async def list_devices(request: Request) -> Response:
        principal = caller(request)
        query = request.query_params
        page = context.page(request)
        order = sort_key(query.get("sort"), SORTABLE)
        online = online_filter(query.get("is_online"))
        group = query.get("group")
        if not principal.may(principal.account, "fleet:devices:read"):
            raise FleetError(403, "you may not list devices")
        bodies: list[dict[str, Any]] = []
        for device in await registry.all():
            if not principal.may(device.account, "fleet:devices:read"):
                continue
            if group is not None and group != "" and device.group != group:
                continue
            if online is not None and device.is_online != online:
                continue
            bodies.append(device.body())
        chosen, meta = page.cut(sorted_by(bodies, order, "uuid"))
        return json_response({"data": chosen, "meta": meta})

    async def get_device(request: Request) -> Response:
        principal = caller(request)
        device = await visible(principal, request.path_params["device_uuid"], "fleet:devices:read")
        return json_response(device.body(), headers=etag(device))

    async def put_device(request: Request) -> Response:
        principal = caller(request)
        device_uuid = request.path_params["device_uuid"]
        expected = if_match(request)
        body = await json_body(request)
        change = validate(DeviceChange, body)
        device = await visible(principal, device_uuid, "fleet:devices:write")
        values = change.model_dump(exclude_none=True)
        for admin_only in ("group", "account"):
            moved = admin_only in values and values[admin_only] != getattr(device, admin_only)
            if moved and principal.role is not Role.ADMIN:
                raise FleetError(403, f"only administrators set a device's {admin_only}")
        if "account" in values and not principal.may(values["account"], "fleet:devices:write"):
            raise FleetError(403, f"you may not move devices to {values['account']}")
        if "account" in values:
            exists = await context.identity.run_sync(
                context.identity.accounts.exists, values["account"]
            )
            if not exists:
                raise FleetError(422, f"account {values['account']} does not exist")
        try:
            changed = await registry.change(device_uuid, values, expected)
        except VersionConflict as conflict:
            raise FleetError(
                412,
                f"the device changed since version {expected}; it is at version "
                f"{conflict.args[0]}: read it again",
                headers={"ETag": f'"{conflict.args[0]}"'},
            ) from None
        if changed is None:
            raise FleetError(404, f"device {device_uuid} not found")
        return json_response(changed.body(), headers=etag(changed))

    async def request_image(request: Request) -> Response:
        principal = caller(request)
        device = await visible(principal, request.path_params["device_uuid"], "fleet:images:write")
        if not device.is_online:
            raise FleetError(409, f"device {device.uuid} is offline")
        try:
            made = await images.request(device)
        except NoImageSource as exc:
            raise FleetError(409, str(exc)) from None
        except TooManyImages as busy:
            context.refused("fleet_concurrent_images")
            raise FleetError(
                429, str(busy), headers={"Retry-After": str(busy.retry_after)}
            ) from None
        base = str(request.base_url).rstrip("/")
        return json_response({"data": [base + made.raw, base + made.annotated]})

    path = "/api/v1/devices/{device_uuid}"
    return [
        Route("/api/v1/devices", fleet(list_devices), methods=["GET"], name="fleet_devices"),
        Route(path, fleet(get_device), methods=["GET"], name="fleet_device"),
        Route(path, fleet(put_device), methods=["PUT"], name="fleet_device_update"),
        Route(path + "/image", fleet(request_image), methods=["POST"], name="fleet_device_image"),
    ]
