"""The gallery: camnet's own REST resources for what was recorded, in the house style.

    GET                /data/recordings            (page, perPage, sort, fields, with…, from, to)
    GET  DELETE        /data/recordings/{id}       (DELETE: 409 while tagged or being written)
    GET                /data/recordings/{id}/file  (the Matroska file; HTTP Range for seeking)
    GET  POST          /data/tags
    GET  PUT  DELETE   /data/tags/{id}             (versioned: ETag / If-Match / body version, 412)

Recordings and tags belong to the node's default account: a caller without a permission
there sees 404, as the identity resources do for another account.
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any, Final

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from camnet.faces.identity.errors import ApiError, not_found
from camnet.faces.identity.resources import (
    caller,
    json_body,
    json_response,
    resource,
    validate,
)
from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal
from camnet.recording import index, tags
from camnet.recording.service import RecordingService
from camnet.store.database import Database
from camnet.web.numbers import decimal, too_large

MAX_PER_PAGE: Final = 100
"""The default of the ``max_page_size`` setting."""
CHUNK: Final = 256 * 1024
RECORDING_FIELDS: Final = (
    "id", "kind", "storage", "file", "start", "end", "startTime", "endTime", "duration",
    "size", "frames", "width", "height", "fps", "quality", "tagged", "open", "version",
)  # fmt: skip
TAG_FIELDS: Final = ("id", "creationTime", "time", "title", "note", "created", "version")
_RANGE: Final = re.compile(r"^bytes=([0-9]{0,18})-([0-9]{0,18})$")
"""At most 18 digits a side: a longer number is no byte position (416, not a 500)."""


class TagBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    creationTime: float | str | None = None
    title: str = Field("", max_length=255)
    note: str = Field("", max_length=4000)
    version: int | None = Field(None, ge=1)


def _allowed(request: Request, action: str) -> Principal:
    principal = caller(request)
    if not principal.permissions.has_tenant(DEFAULT_ACCOUNT):
        raise not_found(f"{request.url.path}")
    if not principal.may(DEFAULT_ACCOUNT, action):
        raise ApiError(403, f"{principal.user} may not {action}")
    return principal


def _int(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    value = decimal(raw)
    if value is None or not low <= value <= high:
        raise ApiError(
            400,
            f"{name} must be an integer from {low} to {high}",
            validation={name: f"expected {low}..{high}, got {raw[:40]!r}"},
        )
    return value


def _time(request: Request, name: str) -> float | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except ValueError:
        pass
    try:
        value = tags.parse_time(raw)
    except tags.TagError:
        value = None
    if value is None:
        raise ApiError(
            400,
            f"{name} must be unix seconds or an ISO 8601 time with zone",
            validation={name: f"not a time: {raw!r}"},
        )
    return value


def _sort(request: Request, allowed: tuple[str, ...], default: str) -> str:
    sort = request.query_params.get("sort", default)
    if sort.lstrip("-") not in allowed or sort.count("-") > 1:
        raise ApiError(
            400,
            f"sort must be one of {', '.join(allowed)}, optionally with '-'",
            validation={"sort": f"unknown field {sort!r}"},
        )
    return sort


def _fields(
    request: Request, allowed: tuple[str, ...]
) -> Callable[[dict[str, Any]], dict[str, Any]]:
    raw = request.query_params.get("fields")
    if not raw:
        return lambda item: item
    wanted = [f.strip() for f in raw.split(",") if f.strip()]
    unknown = [f for f in wanted if f not in allowed]
    if unknown:
        raise ApiError(
            400,
            f"unknown fields: {', '.join(unknown)}",
            validation={"fields": f"allowed: {', '.join(allowed)}"},
        )
    return lambda item: {f: item[f] for f in wanted}


def _meta(request: Request, page: int, per_page: int, total: int) -> dict[str, Any]:
    def link(number: int) -> str:
        return str(request.url.include_query_params(page=number, perPage=per_page))

    last = max(1, -(-total // per_page))
    return {
        "page": page,
        "perPage": per_page,
        "totalCount": total,
        "next": link(page + 1) if page < last else None,
        "prev": link(page - 1) if page > 1 else None,
    }


def _bool(request: Request, name: str) -> bool | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if raw.lower() in ("true", "1"):
        return True
    if raw.lower() in ("false", "0"):
        return False
    raise ApiError(400, f"{name} must be true or false", validation={name: raw})


def _id(request: Request) -> int:
    value = decimal(request.path_params["id"])
    if value is None:
        raise not_found(f"{request.url.path}")
    return value


def _if_match(request: Request, body_version: int | None) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return body_version
    version = decimal(value.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise ApiError(412, 'If-Match must name a version this resource had, e.g. "3"')
    return version


def parse_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a single ``bytes=`` range; None when unsatisfiable."""
    match = _RANGE.match(header.replace(" ", ""))
    if match is None or (not match.group(1) and not match.group(2)):
        return None
    first_text, last_text = match.groups()
    if not first_text:
        length = int(last_text)
        if length == 0 or size == 0:
            return None
        return max(0, size - length), size - 1
    first = int(first_text)
    last = min(int(last_text), size - 1) if last_text else size - 1
    if first >= size or last < first:
        return None
    return first, last


async def _chunks(path: Path, first: int, last: int) -> AsyncIterator[bytes]:
    handle = await asyncio.to_thread(open, path, "rb")
    try:
        await asyncio.to_thread(handle.seek, first)
        left = last - first + 1
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


def gallery_routes(
    service: RecordingService,
    database: Database,
    max_page_size: int = MAX_PER_PAGE,
    on_refusal: Callable[[str], None] | None = None,
) -> list[Route]:
    def page_size(request: Request) -> int:
        """``perPage`` (default 20); above ``max_page_size`` it is the house 400, counted
        as the ``page_size`` limit."""
        raw = request.query_params.get("perPage", "")
        if (too_large(raw) or (decimal(raw) or 0) > max_page_size) and on_refusal is not None:
            on_refusal("page_size")
        return _int(request, "perPage", min(20, max_page_size), 1, max_page_size)

    def read(fn: Any, *args: Any) -> Any:
        with database.engine.connect() as connection:
            return fn(connection, *args)

    async def recording_or_404(request: Request) -> index.Recording:
        recording: index.Recording | None = await database.run(
            read, index.get_recording, _id(request)
        )
        if recording is None:
            raise not_found(f"recording {request.path_params['id']}")
        return recording

    async def list_recordings(request: Request) -> Response:
        _allowed(request, "recording:recordings:read")
        kind = request.query_params.get("withKind")
        if kind is not None and kind not in ("manual", "backup"):
            raise ApiError(400, "withKind must be manual or backup", validation={"withKind": kind})
        query = index.Query(
            page=_int(request, "page", 1, 1, 10**9),
            per_page=page_size(request),
            sort=_sort(request, index.SORTABLE, "-start"),
            kind=kind,
            storage=request.query_params.get("withStorage"),
            tagged=_bool(request, "withTagged"),
            since=_time(request, "from"),
            until=_time(request, "to"),
        )
        project = _fields(request, RECORDING_FIELDS)
        items, total = await database.run(read, index.query_recordings, query)
        return json_response(
            {
                "recordings": [project(item.to_json()) for item in items],
                "meta": _meta(request, query.page, query.per_page, total),
            }
        )

    async def get_recording(request: Request) -> Response:
        _allowed(request, "recording:recordings:read")
        recording = await recording_or_404(request)
        return json_response(recording.to_json(), headers={"ETag": f'"{recording.version}"'})

    async def delete_recording(request: Request) -> Response:
        _allowed(request, "recording:recordings:write")
        recording = await recording_or_404(request)
        if recording.tagged:
            raise ApiError(409, f"recording {recording.id} is tagged; delete its tags first")
        if recording.open:
            raise ApiError(409, f"recording {recording.id} is being written")
        await service.delete_recording(recording)
        return Response(status_code=204)

    async def recording_file(request: Request) -> Response:
        try:
            _allowed(request, "recording:recordings:read")
            recording = await recording_or_404(request)
            path = service.file_of(recording)
            if path is None:
                raise ApiError(404, f"the storage of recording {recording.id} is not available")
            try:
                size = (await asyncio.to_thread(os.stat, path)).st_size
            except OSError:
                raise ApiError(404, f"the file of recording {recording.id} is missing") from None
        except ApiError as error:
            return error.response()
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Disposition": f'inline; filename="{recording.file}"',
            "ETag": f'"{recording.id}-{recording.version}-{size}"',
        }
        first, last, status = 0, size - 1, 200
        header = request.headers.get("range")
        if header is not None:
            chosen = parse_range(header, size)
            if chosen is None:
                return ApiError(
                    416,
                    f"the range {header!r} is not within {size} bytes",
                    headers={"Content-Range": f"bytes */{size}"},
                ).response()
            first, last = chosen
            status = 206
            headers["Content-Range"] = f"bytes {first}-{last}/{size}"
        headers["Content-Length"] = str(max(0, last - first + 1))
        if request.method == "HEAD" or size == 0:
            return Response(status_code=status, headers=headers, media_type="video/x-matroska")
        return StreamingResponse(
            _chunks(path, first, last),
            status_code=status,
            headers=headers,
            media_type="video/x-matroska",
        )

    async def tag_or_404(request: Request) -> index.Tag:
        tag: index.Tag | None = await database.run(read, index.get_tag, _id(request))
        if tag is None:
            raise not_found(f"tag {request.path_params['id']}")
        return tag

    def tag_fields(body: TagBody, default_time: float) -> tuple[float, str, str]:
        try:
            moment = tags.parse_time(body.creationTime)
        except tags.TagError as exc:
            raise ApiError(400, str(exc), validation={"creationTime": str(exc)}) from None
        return (default_time if moment is None else moment), body.title, body.note

    async def list_tags(request: Request) -> Response:
        _allowed(request, "recording:tags:read")
        page = _int(request, "page", 1, 1, 10**9)
        per_page = page_size(request)
        sort = _sort(request, index.TAG_SORTABLE, "-time")
        project = _fields(request, TAG_FIELDS)
        items, total = await database.run(
            read,
            index.query_tags,
            page,
            per_page,
            sort,
            _time(request, "from"),
            _time(request, "to"),
        )
        return json_response(
            {
                "tags": [project(t.to_json()) for t in items],
                "meta": _meta(request, page, per_page, total),
            }
        )

    async def create_tag(request: Request) -> Response:
        _allowed(request, "recording:tags:write")
        body = validate(TagBody, await json_body(request))
        moment, title, note = tag_fields(body, service.now())
        if body.creationTime is None:
            # "Now", as c2's createTag: starts Visual Backup, whose pre-roll holds the tag.
            tag, reason = await service.tag_now(title, note)
        else:
            tag = await service.create_tag(moment, title, note)
            reason = await service.coverage(moment)
        answer: dict[str, Any] = {**tag.to_json(), "inRecording": reason is None}
        if reason is not None:
            answer["reason"] = reason
        return json_response(
            answer, 201, {"Location": f"/data/tags/{tag.id}", "ETag": f'"{tag.version}"'}
        )

    async def get_tag(request: Request) -> Response:
        _allowed(request, "recording:tags:read")
        tag = await tag_or_404(request)
        return json_response(tag.to_json(), headers={"ETag": f'"{tag.version}"'})

    async def put_tag(request: Request) -> Response:
        _allowed(request, "recording:tags:write")
        body = validate(TagBody, await json_body(request))
        current = await tag_or_404(request)
        expected = _if_match(request, body.version)
        if expected is not None and expected != current.version:
            raise ApiError(
                412,
                f"tag {current.id} is at version {current.version}, not "
                f"{expected}; read it again and re-apply the change",
            )
        moment, title, note = tag_fields(body, current.time)
        changed = await service.change_tag(current, moment, title, note)
        if changed is None:
            raise ApiError(412, f"tag {current.id} changed meanwhile; read it again")
        return json_response(changed.to_json(), headers={"ETag": f'"{changed.version}"'})

    async def delete_tag(request: Request) -> Response:
        _allowed(request, "recording:tags:write")
        tag = await tag_or_404(request)
        expected = _if_match(request, None)
        if expected is not None and expected != tag.version:
            raise ApiError(412, f"tag {tag.id} is at version {tag.version}, not {expected}")
        await service.delete_tag(tag)
        return Response(status_code=204)

    file_route = Route(
        "/data/recordings/{id}/file",
        recording_file,
        methods=["GET", "HEAD"],
        name="data_recording_file",
    )
    return [
        resource("/data/recordings", "data_recordings", GET=list_recordings),
        resource(
            "/data/recordings/{id}", "data_recording", GET=get_recording, DELETE=delete_recording
        ),
        file_route,
        resource("/data/tags", "data_tags", GET=list_tags, POST=create_tag),
        resource("/data/tags/{id}", "data_tag", GET=get_tag, PUT=put_tag, DELETE=delete_tag),
    ]
