"""The fleet dialect (``/api/v1/...``) in the OpenAPI document.

Request bodies are the pydantic models the handlers validate with; the answers are the
seed's objects (``docs/fleet.md``), written here as models, and every error is the
dialect's ``{"httpError", "message"}`` (with the seed's ``error`` array on webhooks).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from camnet.faces.fleet.auth import Login, NewKey, Refresh
from camnet.faces.fleet.devices import DeviceChange
from camnet.faces.fleet.webhooks import NewWebhook, Pair, WebhookChange
from camnet.faces.openapi import (
    Part,
    Schema,
    answer,
    binary,
    errors,
    header_parameter,
    json_body,
    operation,
    path_parameter,
    query_parameter,
)
from camnet.fleet.paging import MAX_PER_PAGE
from camnet.fleet.registry import SORTABLE

TAG = "fleet"
_STRICT = ConfigDict(extra="forbid")


class FleetErrorBody(BaseModel):
    """``camnet.faces.fleet.errors.FleetError.body``."""

    model_config = _STRICT
    httpError: int
    message: str
    error: list[str] | None = None


class SignedInUser(BaseModel):
    model_config = _STRICT
    type: str
    name: str
    email: str
    role: list[str]


class SessionData(BaseModel):
    model_config = _STRICT
    user: SignedInUser
    token_type: str
    expires_in: int
    access_token: str
    refresh_token: str


class SessionAnswer(BaseModel):
    model_config = _STRICT
    data: SessionData


class NewKeyData(BaseModel):
    model_config = _STRICT
    name: str
    scope: str
    account: str
    key: str = Field(description="the key itself, shown once")
    created: str


class NewKeyAnswer(BaseModel):
    model_config = _STRICT
    data: NewKeyData


class FleetDevice(BaseModel):
    """The seed's device object plus camnet's ``group``."""

    model_config = _STRICT
    uuid: str
    name: str
    client_identifier: str
    refreshed: str
    is_online: int = Field(ge=0, le=1)
    geo_city: str
    geo_country: str
    group: str


class PageMeta(BaseModel):
    model_config = _STRICT
    current_page: int
    from_: int = Field(alias="from")
    last_page: int
    per_page: int
    total: int
    to: int
    total_pages: int


class DeviceList(BaseModel):
    model_config = _STRICT
    data: list[FleetDevice]
    meta: PageMeta


class ImageLinks(BaseModel):
    model_config = _STRICT
    data: list[str] = Field(description="the raw and the annotated image's signed links")


class HookData(BaseModel):
    model_config = _STRICT
    headers: list[Pair]
    params: list[Pair]


class Webhook(BaseModel):
    model_config = _STRICT
    id: int
    url: str
    webhook_type: str
    status: int
    actions: str
    data: HookData
    device_uuid: str | None
    disabled_reason: str | None


class NewWebhookData(Webhook):
    secret: str = Field(description="the signing secret, shown once")


class WebhookList(BaseModel):
    model_config = _STRICT
    data: list[Webhook]


class WebhookCreated(BaseModel):
    model_config = _STRICT
    error: list[str]
    data: NewWebhookData


class WebhookChanged(BaseModel):
    model_config = _STRICT
    error: list[str]
    data: Webhook


class Delivery(BaseModel):
    model_config = _STRICT
    id: int
    kind: str
    webhook_id: str = Field(alias="webhook-id")
    time: str
    status: str
    response_code: int | None
    latency_ms: float | None
    error: str | None
    next_retry: str | None


class DeliveryList(BaseModel):
    model_config = _STRICT
    data: list[Delivery]
    meta: PageMeta


_BODY = {
    400: "the body is not valid JSON",
    413: "the body is over 64 KiB",
    415: "the body is not application/json",
}


def _paging() -> list[Schema]:
    return [
        query_parameter("page", {"type": "integer", "minimum": 1}),
        query_parameter(
            "per_page",
            {"type": "integer", "minimum": 1},
            f"items per page (at most {MAX_PER_PAGE} are given)",
        ),
    ]


def fleet_part() -> Part:
    part = Part()
    error = part.model(FleetErrorBody, mode="serialization")

    def fails(statuses: dict[int, str]) -> dict[str, Schema]:
        return errors(error, statuses)

    def ok(status: str, description: str, model: type[BaseModel]) -> dict[str, Schema]:
        return {status: answer(description, part.model(model, mode="serialization"))}

    def body(model: type[BaseModel]) -> Schema:
        return json_body(part.model(model))

    session = ok("200", "the session", SessionAnswer)
    part.add(
        "/api/v1/auth/login",
        "post",
        operation(
            "fleet_login",
            TAG,
            "Sign in with email and password",
            {
                **session,
                **fails(
                    {
                        **_BODY,
                        401: "the email or password is wrong",
                        422: "a field is missing",
                        429: "too many failed sign-ins for this email; see Retry-After",
                    }
                ),
            },
            body=body(Login),
        ),
    )
    part.add(
        "/api/v1/auth/refresh",
        "post",
        operation(
            "fleet_refresh",
            TAG,
            "A new session for a refresh token (which is used up)",
            {**session, **fails({**_BODY, 401: "an unusable refresh token", 422: "no token"})},
            body=body(Refresh),
        ),
    )
    part.add(
        "/api/v1/api-keys",
        "post",
        operation(
            "fleet_api_keys",
            TAG,
            "Create a long-lived API key",
            {
                **ok("201", "the key, shown once", NewKeyAnswer),
                **fails(
                    {
                        **_BODY,
                        403: "the caller may not create such a key",
                        409: "a key of that name exists",
                        422: "a field does not validate",
                    }
                ),
            },
            body=body(NewKey),
        ),
    )
    sort = {"type": "string", "enum": [*SORTABLE, *(f"-{name}" for name in SORTABLE)]}
    online = {"type": "string", "enum": ["Online", "Offline", "1", "0"]}
    part.add(
        "/api/v1/devices",
        "get",
        operation(
            "fleet_devices",
            TAG,
            "The devices the caller may read, paged, sorted, filtered",
            {
                **ok("200", "one page of devices", DeviceList),
                **fails(
                    {
                        403: "the caller may not list devices",
                        422: "a bad query value, or per_page above max_page_size",
                    }
                ),
            },
            parameters=[
                *_paging(),
                query_parameter("sort", sort, "a field; prefix - to descend"),
                query_parameter("group", {"type": "string"}),
                query_parameter("is_online", online),
            ],
        ),
    )
    device_uuid = path_parameter("device_uuid")
    one = "/api/v1/devices/{device_uuid}"
    part.add(
        one,
        "get",
        operation(
            "fleet_device",
            TAG,
            "One device (its version in ETag)",
            {
                **ok("200", "the device", FleetDevice),
                **fails({403: "not permitted", 404: "no such device for this caller"}),
            },
            parameters=[device_uuid],
        ),
    )
    part.add(
        one,
        "put",
        operation(
            "fleet_device_update",
            TAG,
            "Edit a device (If-Match: its version)",
            {
                **ok("200", "the device as changed", FleetDevice),
                **fails(
                    {
                        **_BODY,
                        403: "not permitted (group and account: administrators only)",
                        404: "no such device for this caller",
                        412: "If-Match names another version; ETag has the current one",
                        422: "a field does not validate, or no such account",
                    }
                ),
            },
            parameters=[
                device_uuid,
                header_parameter("If-Match", {"type": "string"}, 'the version read, e.g. "3"'),
            ],
            body=body(DeviceChange),
        ),
    )
    part.add(
        one + "/image",
        "post",
        operation(
            "fleet_device_image",
            TAG,
            "Request an image; answers its signed links",
            {
                **ok("200", "the links (the image may not be ready yet)", ImageLinks),
                **fails(
                    {
                        403: "not permitted",
                        404: "no such device for this caller",
                        409: "the device is offline or has no camera",
                        429: "fleet_max_concurrent_images image requests are in flight; "
                        "see Retry-After",
                    }
                ),
            },
            parameters=[device_uuid],
        ),
    )
    part.add(
        "/api/v1/images/{link}",
        "get",
        operation(
            "fleet_image",
            TAG,
            "An image by its signed link (the signature is the credential)",
            {
                "200": binary("the JPEG", "image/jpeg"),
                **fails(
                    {
                        403: "the link is not valid",
                        404: "no such image request",
                        410: "the link expired or the image is gone",
                        503: "the image is not ready yet; see Retry-After",
                        504: "the device gave no image",
                    }
                ),
            },
            parameters=[path_parameter("link")],
        ),
    )
    hook_device = query_parameter("device_uuid", {"type": "string"}, "the device's webhooks")
    part.add(
        "/api/v1/webhooks",
        "get",
        operation(
            "fleet_webhooks",
            TAG,
            "The webhooks the caller may read",
            {**ok("200", "the webhooks", WebhookList), **fails({404: "no such device"})},
            parameters=[hook_device],
        ),
    )
    part.add(
        "/api/v1/webhooks",
        "post",
        operation(
            "fleet_webhook_create",
            TAG,
            "Add a webhook (its URL passes the SSRF guard)",
            {
                **ok("201", "the webhook with its secret, shown once", WebhookCreated),
                **fails(
                    {
                        **_BODY,
                        403: "the caller may not add webhooks",
                        404: "no such device",
                        422: "a field does not validate, or the URL is refused",
                    }
                ),
            },
            parameters=[hook_device],
            body=body(NewWebhook),
        ),
    )
    hook_id = path_parameter("webhook_id")
    one_hook = "/api/v1/webhooks/{webhook_id}"
    part.add(
        one_hook,
        "put",
        operation(
            "fleet_webhook_update",
            TAG,
            "Change a webhook",
            {
                **ok("200", "the webhook as changed", WebhookChanged),
                **fails(
                    {
                        **_BODY,
                        403: "not permitted",
                        404: "no such webhook for this caller",
                        422: "a field does not validate, or the URL is refused",
                    }
                ),
            },
            parameters=[hook_id],
            body=body(WebhookChange),
        ),
    )
    part.add(
        one_hook,
        "delete",
        operation(
            "fleet_webhook_delete",
            TAG,
            "Remove a webhook",
            {
                "204": answer("removed"),
                **fails({403: "not permitted", 404: "no such webhook for this caller"}),
            },
            parameters=[hook_id],
        ),
    )
    part.add(
        one_hook + "/deliveries",
        "get",
        operation(
            "fleet_webhook_deliveries",
            TAG,
            "The webhook's delivery attempts, paged",
            {
                **ok("200", "one page of attempts", DeliveryList),
                **fails(
                    {
                        403: "not permitted",
                        404: "no such webhook for this caller",
                        422: "a bad query value",
                    }
                ),
            },
            parameters=[hook_id, *_paging()],
        ),
    )
    return part
