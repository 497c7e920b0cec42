"""The gallery (``/data/recordings``, ``/data/tags``) in the OpenAPI document.

The field lists are the ones ``gallery.py`` projects with ``fields=``, so an item of a
list may hold any subset of them; a single recording or tag holds all of them.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from camnet.faces.gallery import MAX_PER_PAGE, RECORDING_FIELDS, TAG_FIELDS, TagBody
from camnet.faces.identity.errors import HouseError
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
from camnet.recording.index import SORTABLE, TAG_SORTABLE

TAG = "gallery"
_STRICT = ConfigDict(extra="forbid")


class Recording(BaseModel):
    model_config = _STRICT
    id: int
    kind: str
    storage: str
    file: str
    start: float
    end: float
    startTime: str
    endTime: str
    duration: float
    size: int
    frames: int
    width: int
    height: int
    fps: int
    quality: int
    tagged: bool
    open: bool
    version: int


class Tag(BaseModel):
    model_config = _STRICT
    id: int
    creationTime: float
    time: str
    title: str
    note: str
    created: float
    version: int


class CreatedTag(Tag):
    """A new tag, and whether a recording holds its moment (``reason``: why not)."""

    inRecording: bool
    reason: str | None = None


class ListMeta(BaseModel):
    model_config = _STRICT
    page: int
    perPage: int
    totalCount: int
    next: str | None
    prev: str | None


def _projected(part: Part, name: str, model: type[BaseModel], fields: tuple[str, ...]) -> Schema:
    """An item with any of ``model``'s fields (``fields=`` chooses them)."""
    part.model(model, mode="serialization")
    resolved: dict[str, Any] = part.schemas[model.__name__]
    if set(resolved["properties"]) != set(fields):
        raise ValueError(f"{model.__name__} does not describe the fields {fields}")
    return part.schema(name, {**resolved, "required": [], "title": name})


def _sorts(names: tuple[str, ...]) -> Schema:
    return {"type": "string", "enum": [*names, *(f"-{n}" for n in names)]}


def gallery_part() -> Part:
    part = Part()
    house = part.model(HouseError)
    meta = part.model(ListMeta, mode="serialization")
    recording = part.model(Recording, mode="serialization")
    tag = part.model(Tag, mode="serialization")
    created_tag = part.model(CreatedTag, mode="serialization")
    items = {
        "recordings": _projected(part, "RecordingFields", Recording, RECORDING_FIELDS),
        "tags": _projected(part, "TagFields", Tag, TAG_FIELDS),
    }

    def fails(statuses: dict[int, str]) -> dict[str, Schema]:
        return errors(house, {406: "the Accept header excludes application/json", **statuses})

    def listing(key: str) -> Schema:
        return {
            "type": "object",
            "properties": {key: {"type": "array", "items": items[key]}, "meta": meta},
            "required": [key, "meta"],
            "additionalProperties": False,
        }

    def fields_of(names: tuple[str, ...]) -> Schema:
        return query_parameter("fields", {"type": "string"}, "comma-separated: " + ", ".join(names))

    paging = [
        query_parameter("page", {"type": "integer", "minimum": 1, "maximum": 10**9}),
        query_parameter("perPage", {"type": "integer", "minimum": 1, "maximum": MAX_PER_PAGE}),
    ]
    window = [
        query_parameter("from", {"type": "string"}, "unix seconds or ISO 8601 with zone"),
        query_parameter("to", {"type": "string"}, "unix seconds or ISO 8601 with zone"),
    ]
    bad_query = {400: "a query value that does not parse", 403: "not permitted"}
    part.add(
        "/data/recordings",
        "get",
        operation(
            "data_recordings",
            TAG,
            "What was recorded, paged, sorted, filtered",
            {"200": answer("one page", listing("recordings")), **fails(bad_query)},
            parameters=[
                *paging,
                query_parameter("sort", _sorts(SORTABLE)),
                fields_of(RECORDING_FIELDS),
                query_parameter("withKind", {"type": "string", "enum": ["manual", "backup"]}),
                query_parameter("withStorage", {"type": "string"}),
                query_parameter("withTagged", {"type": "string", "enum": ["true", "false"]}),
                *window,
            ],
        ),
    )
    one_id = path_parameter("id", {"type": "string"}, "a recording's id")
    missing = {404: "no such recording", 403: "not permitted"}
    part.add(
        "/data/recordings/{id}",
        "get",
        operation(
            "data_recording",
            TAG,
            "One recording (ETag: its version)",
            {"200": answer("the recording", recording), **fails(missing)},
            parameters=[one_id],
        ),
    )
    part.add(
        "/data/recordings/{id}",
        "delete",
        operation(
            "data_recording_delete",
            TAG,
            "Delete a recording and its file",
            {
                "204": answer("deleted"),
                **fails({**missing, 409: "the recording is tagged or being written"}),
            },
            parameters=[one_id],
        ),
    )
    file_responses = {
        "200": binary("the Matroska file", "video/x-matroska"),
        "206": binary("the range asked for", "video/x-matroska"),
        **errors(
            house,
            {
                403: "not permitted",
                404: "no such recording, or its storage or file is missing",
                416: "the range is not within the file; see Content-Range",
            },
        ),
    }
    part.add(
        "/data/recordings/{id}/file",
        "get",
        operation(
            "data_recording_file",
            TAG,
            "The recording's file (HTTP Range for seeking)",
            file_responses,
            parameters=[one_id, header_parameter("Range", {"type": "string"}, "bytes=first-last")],
        ),
    )
    written = {
        400: "the body is not JSON or does not validate",
        403: "not permitted",
        415: "the body is not application/json",
    }
    part.add(
        "/data/tags",
        "get",
        operation(
            "data_tags",
            TAG,
            "The tags, paged and sorted",
            {"200": answer("one page", listing("tags")), **fails(bad_query)},
            parameters=[
                *paging,
                query_parameter("sort", _sorts(TAG_SORTABLE)),
                fields_of(TAG_FIELDS),
                *window,
            ],
        ),
    )
    body = json_body(part.model(TagBody))
    part.add(
        "/data/tags",
        "post",
        operation(
            "data_tag_create",
            TAG,
            "Tag a moment",
            {"201": answer("created (ETag: its version)", created_tag), **fails(written)},
            body=body,
        ),
    )
    tag_id = path_parameter("id", {"type": "string"}, "a tag's id")
    if_match = header_parameter("If-Match", {"type": "string"}, 'the version read, e.g. "3"')
    stale = {404: "no such tag", 412: "the tag is at another version"}
    part.add(
        "/data/tags/{id}",
        "get",
        operation(
            "data_tag",
            TAG,
            "One tag (ETag: its version)",
            {"200": answer("the tag", tag), **fails({404: "no such tag", 403: "not permitted"})},
            parameters=[tag_id],
        ),
    )
    part.add(
        "/data/tags/{id}",
        "put",
        operation(
            "data_tag_change",
            TAG,
            "Change a tag (If-Match or version: the version read)",
            {"200": answer("the tag as changed", tag), **fails({**written, **stale})},
            parameters=[tag_id, if_match],
            body=body,
        ),
    )
    part.add(
        "/data/tags/{id}",
        "delete",
        operation(
            "data_tag_delete",
            TAG,
            "Delete a tag",
            {"204": answer("deleted"), **fails({**stale, 403: "not permitted"})},
            parameters=[tag_id, if_match],
        ),
    )
    return part
