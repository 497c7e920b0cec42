"""The c2 dialect in the OpenAPI document: ``/api``, ``/nodes/{machine}/api``,
``/camera.jpeg`` and ``/media/status``.

The state object is derived from the control unit's own ``Schema``, the one every write
is validated against, so each variable's type and options in the document are the
device's. Ranges are given as text, not as bounds: the seed saturates an out-of-range
number into its range rather than refusing it. ``/camera.mjpeg`` and the WebSocket on
``/api`` are left out: one is an endless multipart stream and the other not HTTP, and
OpenAPI describes neither as a finite response (``tests/ops/test_openapi.py`` lists
them as excluded, with that reason).
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from camnet.faces.openapi import (
    Part,
    Schema,
    answer,
    binary,
    errors,
    json_body,
    operation,
    path_parameter,
    query_parameter,
)
from camnet.state.schema import Field, Kind, Variable
from camnet.state.schema import Schema as StateSchema

TAG = "c2"


class C2Problem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    reason: str


class C2ErrorDetail(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: int
    code: str
    message: str
    details: list[C2Problem] | None = None


class C2ErrorBody(BaseModel):
    """``{"error": {...}}`` (``camnet.faces.c2.errors.C2Error.body``)."""

    model_config = ConfigDict(extra="forbid")
    error: C2ErrorDetail


_KIND: dict[Kind, Schema] = {
    Kind.BOOL: {"type": "boolean"},
    Kind.INT: {"type": "integer"},
    Kind.FLOAT: {"type": "number"},
    Kind.STRING: {"type": "string"},
    Kind.JSON: {},
}
_FIELD: dict[Field, Schema] = {
    Field.NUMBER: {"type": "number"},
    Field.STRING: {"type": "string"},
    Field.BOOL: {"type": "boolean"},
    Field.NUMBER_OR_STRING: {"type": ["number", "string"]},
}


def _described(variable: Variable, schema: Schema) -> Schema:
    text = variable.description
    if variable.ranged:
        text += f" (range {variable.minimum:g} to {variable.maximum:g}, saturated on write)"
    if variable.unit:
        text += f"; unit: {variable.unit}"
    return {**schema, "description": text}


def read_schema(variable: Variable) -> Schema:
    """The value of ``variable`` as a response shows it."""
    if variable.kind is Kind.ENUM:
        schema: Schema = {"enum": list(variable.options)}
    else:
        schema = dict(_KIND[variable.kind])
    if variable.default is None and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    elif variable.default is None and "enum" in schema:
        schema["enum"] = [*schema["enum"], None]
    return _described(variable, schema)


def write_schema(variable: Variable, *, in_query: bool = False) -> Schema:
    """What a setter of ``variable`` takes (a query carries no structured values)."""
    kind = variable.effective_write_kind
    if kind is Kind.ENUM:
        schema: Schema = {"enum": list(variable.options)}
    elif kind is Kind.JSON and in_query:
        schema = {"type": "string", "description": "structured: send it in a POST body"}
    elif kind is Kind.JSON and variable.shape:
        members = {name: _FIELD[f] for name, f in variable.shape.items()}
        schema = {"type": "object", "properties": members, "additionalProperties": False}
    else:
        schema = dict(_KIND[kind])
    if kind is Kind.STRING:
        schema["maxLength"] = variable.max_length
    return _described(variable, schema)


def state_schema(schema: StateSchema) -> Schema:
    """The object ``/api`` answers: some of these variables, each at most once."""
    properties = {
        v.name: read_schema(v) if v.readable else write_schema(v) for v in schema if v.access
    }
    return {
        "type": "object",
        "description": "the variables read or written, with their values after the request",
        "properties": properties,
        "additionalProperties": False,
    }


def _setters(schema: StateSchema) -> Schema:
    properties = {v.name: write_schema(v, in_query=True) for v in schema if v.writable}
    return {
        "name": "setters",
        "in": "query",
        "required": False,
        "style": "form",
        "explode": True,
        "description": "variable=value setters, run in the written order",
        "schema": {"type": "object", "properties": properties, "additionalProperties": False},
    }


def _credentials() -> list[Schema]:
    text: dict[str, Any] = {"type": "string", "maxLength": 1024}
    return [
        query_parameter("token", text, "the API-User's token (or the user's password)"),
        query_parameter("user", text, "the user the token or password belongs to"),
        query_parameter("password", text, "the same field as token"),
    ]


def c2_part(schema: StateSchema) -> Part:
    """The c2 routes of a node whose control unit has ``schema``."""
    part = Part()
    error = part.model(C2ErrorBody)
    state = part.schema("C2State", state_schema(schema))
    writable = {v.name: write_schema(v) for v in schema if v.writable}
    body = {
        "type": "object",
        "properties": {
            **writable,
            "get": {
                "type": "array",
                "items": {"type": "string"},
                "description": "variables to read",
            },
        },
        "additionalProperties": False,
    }
    get = query_parameter(
        "get",
        {"type": "string", "maxLength": 4096},
        "variables to read: [name,name,…] (brackets and quotes optional)",
    )
    api_errors = {
        400: "an unknown, read-only or badly typed setter, a malformed get list or body; "
        "nothing was changed",
        403: "the user may not write a variable; nothing was changed",
        413: "the body is over max_body_bytes",
        503: "the device cannot take the change now; nothing is known to have changed",
    }
    machine = path_parameter("machine", {"type": "string"}, "the node's machine name")
    for path, prefix, extra in (
        ("/api", "c2_api", {}),
        ("/nodes/{machine}/api", "c2_node_api", {404: "no control unit of that node is known"}),
    ):
        parameters = [*([machine] if extra else []), get, *_credentials(), _setters(schema)]
        responses = {"200": answer("the variables read or written", state)}
        responses.update(errors(error, {**api_errors, **extra}))
        part.add(
            path,
            "get",
            operation(
                f"{prefix}_get",
                TAG,
                "Read variables, or run setters given as query parameters",
                responses,
                parameters=parameters,
            ),
        )
        part.add(
            path,
            "post",
            operation(
                f"{prefix}_post",
                TAG,
                "Run the setters of a JSON body (after the query's)",
                responses,
                parameters=parameters,
                body=json_body(body, required=False),
                description="The body is read as JSON whatever its Content-Type.",
            ),
        )
    jpeg = {"200": binary("the newest frame of the live stream", "image/jpeg")}
    jpeg.update(errors(error, {504: "the camera delivered no frame within snapshot_timeout"}))
    part.add(
        "/camera.jpeg",
        "get",
        operation("c2_camera_jpeg", TAG, "The newest live image", jpeg, parameters=_credentials()),
    )
    status = {
        "type": "object",
        "properties": {"streams": {"type": "object", "additionalProperties": {"type": "object"}}},
        "required": ["streams"],
        "additionalProperties": False,
    }
    part.add(
        "/media/status",
        "get",
        operation(
            "media_status",
            TAG,
            "The live hubs' counters: frames captured, encodes, consumers",
            {"200": answer("one entry per hub", part.schema("MediaStatus", status))},
            parameters=_credentials(),
        ),
    )
    return part
