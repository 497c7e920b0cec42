"""What each SDK call sends and how its answer is read: pure functions, no I/O.

Every method of :class:`~camnet.client.Client` and :class:`~camnet.client.AsyncClient`
is one of these builders handed to that client's transport, so the two clients differ
only in how bytes travel.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from camnet.client.errors import ProtocolError
from camnet.client.models import (
    Delivery,
    Device,
    Recording,
    Tag,
    Webhook,
    fleet_page,
    gallery_page,
)

T = TypeVar("T")
Params = list[tuple[str, str | int | float | bool | None]]


def _identity(data: Any) -> Any:
    return data


@dataclass(frozen=True)
class Call(Generic[T]):
    """One HTTP request and the reading of its answer.

    ``expect`` says what the body is: ``json`` (parsed, then ``parse``), ``bytes`` or
    ``empty`` (204). ``parse`` may also take the headers (``parse_headers``) for
    answers whose version travels in the ``ETag``. ``auth`` False: sent without the
    client's credentials (token requests carry their own).
    """

    method: str
    path: str
    params: Params = field(default_factory=list)
    json: Any = None
    data: Mapping[str, str] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    parse: Callable[[Any], T] = _identity
    parse_headers: Callable[[Any, Mapping[str, str]], T] | None = None
    expect: Literal["json", "bytes", "empty"] = "json"
    auth: bool = True

    def read(self, content: bytes, headers: Mapping[str, str]) -> T:
        """The answer's value from a 2xx body."""
        body: Any
        if self.expect == "json":
            try:
                body = json.loads(content)
            except ValueError:
                raise ProtocolError(
                    f"{self.method} {self.path}: the answer is not JSON", body=content[:200]
                ) from None
        elif self.expect == "bytes":
            body = content
        else:
            body = None
        if self.parse_headers is not None:
            return self.parse_headers(body, headers)
        return self.parse(body)


def _etag_version(headers: Mapping[str, str]) -> int | None:
    raw = {k.lower(): v for k, v in headers.items()}.get("etag", "")
    raw = raw.removeprefix("W/").strip('"')
    return int(raw) if raw.isdigit() else None


def _state(data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ProtocolError("the state answer is not a JSON object", body=data)
    return data


def _query_bool(value: bool | None) -> str | None:
    return None if value is None else ("true" if value else "false")


def _params(**values: object) -> Params:
    """Query parameters without the ones left at None."""
    return [(k, str(v)) for k, v in values.items() if v is not None]


# c2 state ---------------------------------------------------------------------------


def get_state(names: Sequence[str] = ()) -> Call[dict[str, Any]]:
    """``GET /api`` (every readable variable) or ``GET /api?get=[a,b]``."""
    params: Params = [("get", "[" + ",".join(names) + "]")] if names else []
    return Call("GET", "/api", params=params, parse=_state)


def set_state(values: Mapping[str, Any]) -> Call[dict[str, Any]]:
    """``POST /api`` with the setters as JSON; the answer holds each value afterwards.
    All or nothing: one refused setter and nothing is applied."""
    return Call("POST", "/api", json=dict(values), parse=_state)


def snapshot() -> Call[bytes]:
    return Call("GET", "/camera.jpeg", expect="bytes")


# gallery: recordings and tags ---------------------------------------------------------


def list_recordings(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: str | None = None,
    kind: str | None = None,
    storage: str | None = None,
    tagged: bool | None = None,
    since: float | str | None = None,
    until: float | str | None = None,
) -> Call[Any]:
    params = _params(
        page=page,
        perPage=per_page,
        sort=sort,
        withKind=kind,
        withStorage=storage,
        withTagged=_query_bool(tagged),
        to=until,
    )
    if since is not None:
        params.append(("from", str(since)))
    return Call(
        "GET",
        "/data/recordings",
        params=params,
        parse=lambda data: gallery_page("recordings", Recording.from_json, data),
    )


def get_recording(recording_id: int) -> Call[Recording]:
    return Call("GET", f"/data/recordings/{int(recording_id)}", parse=Recording.from_json)


def delete_recording(recording_id: int) -> Call[None]:
    return Call("DELETE", f"/data/recordings/{int(recording_id)}", expect="empty")


def recording_file_path(recording_id: int) -> str:
    return f"/data/recordings/{int(recording_id)}/file"


def list_tags(
    *, page: int | None = None, per_page: int | None = None, sort: str | None = None
) -> Call[Any]:
    return Call(
        "GET",
        "/data/tags",
        params=_params(page=page, perPage=per_page, sort=sort),
        parse=lambda data: gallery_page("tags", Tag.from_json, data),
    )


def create_tag(
    title: str = "", note: str = "", creation_time: float | str | None = None
) -> Call[Tag]:
    body: dict[str, Any] = {"title": title, "note": note}
    if creation_time is not None:
        body["creationTime"] = creation_time
    return Call("POST", "/data/tags", json=body, parse=Tag.from_json)


def get_tag(tag_id: int) -> Call[Tag]:
    return Call("GET", f"/data/tags/{int(tag_id)}", parse=Tag.from_json)


def update_tag(
    tag: Tag,
    *,
    title: str | None = None,
    note: str | None = None,
    creation_time: float | str | None = None,
) -> Call[Tag]:
    """``PUT`` replacing the tag's fields, guarded by the version it was read at
    (a change made meanwhile raises :class:`PreconditionFailed`)."""
    body = {
        "title": tag.title if title is None else title,
        "note": tag.note if note is None else note,
        "creationTime": tag.creation_time if creation_time is None else creation_time,
    }
    return Call(
        "PUT",
        f"/data/tags/{tag.id}",
        json=body,
        headers={"If-Match": f'"{tag.version}"'},
        parse=Tag.from_json,
    )


def delete_tag(tag_id: int, version: int | None = None) -> Call[None]:
    headers = {} if version is None else {"If-Match": f'"{version}"'}
    return Call("DELETE", f"/data/tags/{int(tag_id)}", headers=headers, expect="empty")


# fleet: devices and webhooks ----------------------------------------------------------


def list_devices(
    *,
    page: int | None = None,
    per_page: int | None = None,
    sort: str | None = None,
    group: str | None = None,
    online: bool | None = None,
) -> Call[Any]:
    params = _params(
        page=page,
        per_page=per_page,
        sort=sort,
        group=group,
        is_online=None if online is None else int(online),
    )
    return Call(
        "GET",
        "/api/v1/devices",
        params=params,
        parse=lambda data: fleet_page(Device.from_json, data),
    )


def get_device(uuid: str) -> Call[Device]:
    return Call(
        "GET",
        f"/api/v1/devices/{uuid}",
        parse_headers=lambda data, headers: Device.from_json(
            data.get("data", data), _etag_version(headers)
        ),
    )


def update_device(
    uuid: str, changes: Mapping[str, Any], version: int | None = None
) -> Call[Device]:
    headers = {} if version is None else {"If-Match": f'"{version}"'}
    return Call(
        "PUT",
        f"/api/v1/devices/{uuid}",
        json=dict(changes),
        headers=headers,
        parse_headers=lambda data, headers: Device.from_json(
            data.get("data", data), _etag_version(headers)
        ),
    )


def list_webhooks(device_uuid: str | None = None) -> Call[list[Webhook]]:
    return Call(
        "GET",
        "/api/v1/webhooks",
        params=_params(device_uuid=device_uuid),
        parse=lambda data: [Webhook.from_json(x) for x in data.get("data", [])],
    )


def create_webhook(
    url: str,
    *,
    device_uuid: str | None = None,
    actions: Sequence[str] | None = None,
    webhook_type: str | None = None,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, str] | None = None,
) -> Call[Webhook]:
    body: dict[str, Any] = {"url": url}
    if actions is not None:
        body["actions"] = ",".join(actions)
    if webhook_type is not None:
        body["webhook_type"] = webhook_type
    if headers or params:
        body["data"] = {
            "headers": [{"name": k, "value": v} for k, v in (headers or {}).items()],
            "params": [{"name": k, "value": v} for k, v in (params or {}).items()],
        }
    return Call(
        "POST",
        "/api/v1/webhooks",
        params=_params(device_uuid=device_uuid),
        json=body,
        parse=lambda data: Webhook.from_json(data["data"]),
    )


def update_webhook(webhook_id: int, changes: Mapping[str, Any]) -> Call[Webhook]:
    return Call(
        "PUT",
        f"/api/v1/webhooks/{int(webhook_id)}",
        json=dict(changes),
        parse=lambda data: Webhook.from_json(data["data"]),
    )


def delete_webhook(webhook_id: int) -> Call[None]:
    return Call("DELETE", f"/api/v1/webhooks/{int(webhook_id)}", expect="empty")


def webhook_deliveries(
    webhook_id: int, *, page: int | None = None, per_page: int | None = None
) -> Call[Any]:
    return Call(
        "GET",
        f"/api/v1/webhooks/{int(webhook_id)}/deliveries",
        params=_params(page=page, per_page=per_page),
        parse=lambda data: fleet_page(Delivery.from_json, data),
    )


# identity ------------------------------------------------------------------------------


def verify_token(access_token: str) -> Call[dict[str, Any]]:
    """``GET /oauth/token``: the seed's verification body for a token."""
    return Call(
        "GET",
        "/oauth/token",
        headers={"Authorization": f"Bearer {access_token}"},
        parse=_state,
        auth=False,
    )
