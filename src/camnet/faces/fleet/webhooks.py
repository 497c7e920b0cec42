"""``/api/v1/webhooks``: the seed's webhook fields, its ``{"error": [...]}`` answers, and
``/webhooks/{id}/deliveries`` (the attempts log). Destinations pass the SSRF guard when a
webhook is created or its URL changes, and again before every request."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
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
from camnet.fleet.registry import iso
from camnet.fleet.webhooks.request import RESERVED_HEADERS, unsendable
from camnet.fleet.webhooks.ssrf import Refused
from camnet.fleet.webhooks.store import ACTIONS, WebhookRecord
from camnet.identity.permissions import Principal
from camnet.web.numbers import decimal

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,128}$")


class Pair(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=128)
    value: str = Field(max_length=4096)

    @field_validator("name", "value")
    @classmethod
    def _no_controls(cls, value: str) -> str:
        why = unsendable(value, header=False)
        if why is not None:
            raise ValueError(why)
        return value


class WebhookData(BaseModel):
    model_config = ConfigDict(extra="forbid")
    headers: list[Pair] = Field(default_factory=list, max_length=32)
    params: list[Pair] = Field(default_factory=list, max_length=32)

    @field_validator("headers")
    @classmethod
    def _header_names(cls, headers: list[Pair]) -> list[Pair]:
        for header in headers:
            if not _TOKEN.match(header.name):
                raise ValueError(f"{header.name!r} is not a header name")
            if header.name.lower() in RESERVED_HEADERS:
                raise ValueError(f"{header.name} is set by camnet and cannot be replaced")
            why = unsendable(header.value, header=True)
            if why is not None:
                raise ValueError(f"the value of {header.name} {why}")
        return headers


def _actions(value: str | None) -> str | None:
    if value is None:
        return None
    names = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [name for name in names if name not in ACTIONS]
    if unknown:
        raise ValueError(f"unknown actions {', '.join(unknown)}; known: {', '.join(ACTIONS)}")
    return ",".join(dict.fromkeys(names))


class WebhookChange(BaseModel):
    model_config = ConfigDict(extra="ignore")
    url: str | None = Field(None, min_length=1, max_length=2048)
    webhook_type: Literal["payload", "keepalive"] | None = None
    status: Literal[0, 1] | None = None
    actions: str | None = Field(None, max_length=255)
    data: WebhookData | None = None

    _check_actions = field_validator("actions")(classmethod(lambda cls, v: _actions(v)))


class NewWebhook(WebhookChange):
    url: str = Field(min_length=1, max_length=2048)


def _fields(change: WebhookChange) -> dict[str, Any]:
    values = change.model_dump(exclude_none=True)
    if change.data is not None:
        values["data"] = change.data.model_dump()
    return values


MASK = "********"


def shown(hook: WebhookRecord, principal: Principal) -> dict[str, Any]:
    """The webhook as ``principal`` may see it: the values of ``data.headers`` and
    ``data.params`` are the receiver's credentials as often as not, so only a principal
    that may change the webhook reads them; others see the names, values masked."""
    body = hook.body()
    if principal.may(hook.account, "fleet:webhooks:write"):
        return body
    data = body.get("data") or {}
    body["data"] = {
        key: [{**pair, "value": MASK} for pair in data.get(key) or ()]
        for key in ("headers", "params")
    }
    return body


def webhook_routes(context: FleetContext) -> list[Route]:
    fleet_service = context.fleet
    store = fleet_service.webhooks
    registry = fleet_service.registry
    run = fleet_service.database.run

    async def device_account(principal: Principal, device_uuid: str | None) -> str | None:
        if device_uuid is None:
            return None
        device = await registry.get(device_uuid)
        if device is None or not principal.may(device.account, "fleet:devices:read"):
            raise FleetError(404, f"device {device_uuid} not found")
        return device.account

    async def visible(request: Request, action: str) -> tuple[Principal, WebhookRecord]:
        principal = caller(request)
        raw = request.path_params["webhook_id"]
        number = decimal(raw, 11)
        hook = await run(store.get, number) if number is not None else None
        if hook is None or not principal.may(hook.account, "fleet:webhooks:read"):
            raise FleetError(404, f"webhook {raw} not found")
        if not principal.may(hook.account, action):
            raise FleetError(403, "you may not change this webhook")
        return principal, hook

    async def check_url(url: str) -> None:
        try:
            await fleet_service.guard.check(url)
        except Refused as exc:
            message = f"url: {exc}"
            raise FleetError(422, message, errors=[message]) from None

    async def list_webhooks(request: Request) -> Response:
        principal = caller(request)
        device_uuid = request.query_params.get("device_uuid") or None
        await device_account(principal, device_uuid)
        hooks = await run(store.all, device_uuid)
        data = [
            shown(h, principal) for h in hooks if principal.may(h.account, "fleet:webhooks:read")
        ]
        return json_response({"data": data})

    async def create(request: Request) -> Response:
        principal = caller(request)
        device_uuid = request.query_params.get("device_uuid") or None
        body = validate(NewWebhook, await json_body(request), with_errors=True)
        account = await device_account(principal, device_uuid) or principal.account
        if not principal.may(account, "fleet:webhooks:write"):
            raise FleetError(403, "you may not add webhooks")
        await check_url(body.url)
        values = {
            "webhook_type": "payload",
            "status": 1,
            "actions": "",
            "data": {"headers": [], "params": []},
            **_fields(body),
        }
        hook = await run(store.create, account, device_uuid, values, fleet_service.clock.now())
        fleet_service.dispatcher.wake()
        answer = {"error": [], "data": {**hook.body(), "secret": hook.secret}}
        return json_response(answer, status=201, headers={"Cache-Control": "no-store"})

    async def change(request: Request) -> Response:
        body = validate(WebhookChange, await json_body(request), with_errors=True)
        _, hook = await visible(request, "fleet:webhooks:write")
        if body.url is not None:
            await check_url(body.url)
        changed = await run(store.change, hook.id, _fields(body))
        if changed is None:
            raise FleetError(404, f"webhook {hook.id} not found")
        fleet_service.dispatcher.wake()
        return json_response({"error": [], "data": changed.body()})

    async def remove(request: Request) -> Response:
        _, hook = await visible(request, "fleet:webhooks:write")
        await run(store.delete, hook.id)
        return Response(status_code=204)

    async def deliveries(request: Request) -> Response:
        _, hook = await visible(request, "fleet:webhooks:read")
        page = context.page(request)
        attempts = await run(store.attempts, hook.id)
        rows = [
            {
                "id": a["id"],
                "kind": a["kind"],
                "webhook-id": a["message_id"],
                "time": iso(a["at"]),
                "status": a["outcome"],
                "response_code": a["response_code"],
                "latency_ms": None if a["latency_ms"] is None else round(a["latency_ms"], 2),
                "error": a["error"],
                "next_retry": None if a["next_retry"] is None else iso(a["next_retry"]),
            }
            for a in attempts
        ]
        chosen, meta = page.cut(rows)
        return json_response({"data": chosen, "meta": meta})

    one = "/api/v1/webhooks/{webhook_id}"
    return [
        Route("/api/v1/webhooks", fleet(list_webhooks), methods=["GET"], name="fleet_webhooks"),
        Route("/api/v1/webhooks", fleet(create), methods=["POST"], name="fleet_webhook_create"),
        Route(one, fleet(change), methods=["PUT"], name="fleet_webhook_update"),
        Route(one, fleet(remove), methods=["DELETE"], name="fleet_webhook_delete"),
        Route(
            one + "/deliveries", fleet(deliveries), methods=["GET"], name="fleet_webhook_deliveries"
        ),
    ]
