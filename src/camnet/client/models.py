"""Typed answers. Each model keeps the server's JSON object in ``raw`` as it came, so a
field added by a later server is never lost, and ``from_json`` reads only what it names."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import numpy as np
import numpy.typing as npt

T = TypeVar("T")


def decode_jpeg(jpeg: bytes) -> npt.NDArray[np.uint8]:
    """A JPEG as an RGB array of shape (height, width, 3), decoded with libjpeg-turbo."""
    import simplejpeg

    array: npt.NDArray[np.uint8] = simplejpeg.decode_jpeg(jpeg, colorspace="RGB")
    return array


@dataclass(frozen=True, slots=True)
class Frame:
    """One JPEG from ``/camera.mjpeg`` (or ``/camera.jpeg``), with its capture time
    (epoch seconds, from the part's ``X-Timestamp``) when the server sent one."""

    jpeg: bytes
    timestamp: float | None = None

    def array(self) -> npt.NDArray[np.uint8]:
        return decode_jpeg(self.jpeg)


@dataclass(frozen=True, slots=True)
class StateChange:
    """A message of the c2 WebSocket: the whole readable state first (``initial``), then
    only the variables that changed."""

    values: dict[str, Any]
    initial: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; ``total`` counts every item over all pages."""

    items: list[T]
    total: int
    page: int
    per_page: int
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Device:
    """A fleet device (``/api/v1/devices``); ``version`` comes from the ``ETag`` when the
    device was read alone, for a versioned :meth:`Client.update_device`."""

    uuid: str
    name: str
    client_identifier: str | None
    refreshed: str
    is_online: bool
    geo_city: str | None
    geo_country: str | None
    group: str | None
    raw: dict[str, Any]
    version: int | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any], version: int | None = None) -> Device:
        return cls(
            uuid=data["uuid"],
            name=data["name"],
            client_identifier=data.get("client_identifier"),
            refreshed=data.get("refreshed", ""),
            is_online=bool(data.get("is_online")),
            geo_city=data.get("geo_city"),
            geo_country=data.get("geo_country"),
            group=data.get("group"),
            raw=dict(data),
            version=version,
        )


@dataclass(frozen=True, slots=True)
class Recording:
    """A recorded segment of the gallery (``/data/recordings``)."""

    id: int
    kind: str
    storage: str
    file: str
    start: float
    end: float | None
    duration: float | None
    size: int | None
    frames: int | None
    width: int | None
    height: int | None
    fps: float | None
    tagged: bool
    open: bool
    version: int
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Recording:
        return cls(
            id=int(data["id"]),
            kind=data.get("kind", ""),
            storage=data.get("storage", ""),
            file=data.get("file", ""),
            start=float(data.get("start") or 0),
            end=data.get("end"),
            duration=data.get("duration"),
            size=data.get("size"),
            frames=data.get("frames"),
            width=data.get("width"),
            height=data.get("height"),
            fps=data.get("fps"),
            tagged=bool(data.get("tagged")),
            open=bool(data.get("open")),
            version=int(data.get("version", 0)),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Tag:
    """A tag (``/data/tags``): a moment that protects the backup segment around it."""

    id: int
    creation_time: float
    time: str
    title: str
    note: str
    version: int
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tag:
        return cls(
            id=int(data["id"]),
            creation_time=float(data["creationTime"]),
            time=data.get("time", ""),
            title=data.get("title", ""),
            note=data.get("note", ""),
            version=int(data.get("version", 0)),
            raw=dict(data),
        )


@dataclass(frozen=True, slots=True)
class Webhook:
    """A fleet webhook; ``secret`` (``whsec_…``) only in the answer that created it."""

    id: int
    url: str
    webhook_type: str
    status: int
    actions: str
    data: dict[str, Any]
    device_uuid: str | None
    disabled_reason: str | None
    raw: dict[str, Any]
    secret: str | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Webhook:
        return cls(
            id=int(data["id"]),
            url=data["url"],
            webhook_type=data.get("webhook_type", "payload"),
            status=int(data.get("status", 1)),
            actions=data.get("actions", ""),
            data=dict(data.get("data") or {}),
            device_uuid=data.get("device_uuid"),
            disabled_reason=data.get("disabled_reason"),
            raw=dict(data),
            secret=data.get("secret"),
        )


@dataclass(frozen=True, slots=True)
class Delivery:
    """One attempt to deliver an event to a webhook (newest first in the log)."""

    id: int
    kind: str
    message_id: str
    time: str
    status: str
    response_code: int | None
    latency_ms: float | None
    error: str | None
    next_retry: str | None
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Delivery:
        return cls(
            id=int(data["id"]),
            kind=data.get("kind", ""),
            message_id=data.get("webhook-id", ""),
            time=data.get("time", ""),
            status=str(data.get("status", "")),
            response_code=data.get("response_code"),
            latency_ms=data.get("latency_ms"),
            error=data.get("error"),
            next_retry=data.get("next_retry"),
            raw=dict(data),
        )


def gallery_page(key: str, item: Callable[[Mapping[str, Any]], T], data: Any) -> Page[T]:
    meta = dict(data.get("meta") or {})
    return Page(
        items=[item(x) for x in data.get(key, [])],
        total=int(meta.get("totalCount", 0)),
        page=int(meta.get("page", 1)),
        per_page=int(meta.get("perPage", 0)),
        meta=meta,
    )


def fleet_page(item: Callable[[Mapping[str, Any]], T], data: Any) -> Page[T]:
    meta = dict(data.get("meta") or {})
    return Page(
        items=[item(x) for x in data.get("data", [])],
        total=int(meta.get("total", 0)),
        page=int(meta.get("current_page", 1)),
        per_page=int(meta.get("per_page", 0)),
        meta=meta,
    )


@dataclass(frozen=True, slots=True)
class Download:
    """A finished download: where it is, its size and how much an earlier attempt had
    already fetched (``resumed_from`` bytes were not sent again)."""

    path: str
    size: int
    resumed_from: int


ProgressCallback = Callable[[int, int | None], None]
"""Called with (bytes so far, total bytes or None) as a download advances."""
