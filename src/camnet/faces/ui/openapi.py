"""The dashboard's routes in the OpenAPI document: its files (``/``, ``/ui/static/…``),
its sign-in (``/ui/session``) and the data it reads (``/ui/api/…``)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from camnet.faces.identity.errors import HouseError
from camnet.faces.identity.openapi import Grant
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
from camnet.faces.ui.static import MEDIA_TYPES

TAG = "dashboard"
_STRICT = ConfigDict(extra="forbid")


class Abilities(BaseModel):
    """What the page may offer (``faces/ui/abilities.py``); the server checks anyway."""

    model_config = _STRICT
    stateWrite: Literal["*"] | list[str] = Field(
        description='"*": every c2 variable, else the c2 variables it may write'
    )
    record: bool
    tag: bool
    streams: bool
    webhooks: bool
    administer: bool


class SignedIn(BaseModel):
    """Who holds the dashboard session, and the CSRF value its requests carry."""

    model_config = _STRICT
    user: str
    account: str
    role: str
    csrf: str
    administrator: bool
    permissions: list[Grant]
    may: Abilities


class DeviceSummary(BaseModel):
    model_config = _STRICT
    name: str
    kind: str
    variables: int


class Series(BaseModel):
    model_config = _STRICT
    device: str
    variable: str
    kind: str
    unit: str
    points: list[tuple[float, float | None]]


class History(BaseModel):
    model_config = _STRICT
    now: float
    window: float
    resolution: float
    series: list[Series]


def _variable() -> Schema:
    """One entry of ``Schema.describe`` (an unbounded range end is null)."""
    text: Schema = {"type": "string"}
    properties: dict[str, Any] = {
        "name": text,
        "type": {"type": "string", "enum": ["bool", "int", "float", "string", "enum", "json"]},
        "access": text,
        "description": text,
        "default": {},
        "persisted": {"type": "boolean"},
        "relative": {"type": "boolean"},
        "range": {"type": "array", "items": {"type": ["number", "null"]}},
        "options": {"type": "array"},
        "unit": text,
        "shape": {"type": "object", "additionalProperties": text},
        "writeType": text,
        "group": text,
        "label": text,
        "reading": {"type": "boolean"},
    }
    required = ["name", "type", "access", "description", "default", "persisted", "relative"]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def ui_part() -> Part:
    part = Part()
    house = part.model(HouseError)
    signed_in = part.model(SignedIn, mode="serialization")
    files = sorted({media.split(";")[0] for media in MEDIA_TYPES.values()})
    page = {"200": binary("the page", "text/html")}
    part.add("/", "get", operation("ui_index", TAG, "The dashboard's page", page))
    part.add(
        "/ui/static/{name}",
        "get",
        operation(
            "ui_static",
            TAG,
            "One of the dashboard's files",
            {
                "200": binary("the file", *files),
                "404": answer("no such file", {"type": "string"}, "text/plain"),
            },
            parameters=[path_parameter("name")],
        ),
    )
    credentials = {
        "type": "object",
        "properties": {"username": {"type": "string"}, "password": {"type": "string"}},
        "required": ["username", "password"],
    }
    sign_in = operation(
        "ui_sign_in",
        TAG,
        "Sign in: sets the session cookie",
        {
            "200": answer("signed in", signed_in),
            **errors(
                house,
                {
                    400: "the body is not JSON or lacks a field",
                    401: "the username or password is wrong",
                    413: "the body is over 16 KiB",
                    415: "the body is not application/json",
                    429: "too many attempts; see Retry-After",
                },
            ),
        },
        body=json_body(credentials),
    )
    part.add("/ui/session", "post", sign_in)
    part.add(
        "/ui/session",
        "get",
        operation(
            "ui_session",
            TAG,
            "Who is signed in, and the session's CSRF value",
            {
                "200": answer("the session", signed_in),
                "400": answer("the request carries no dashboard session", house),
            },
        ),
    )
    part.add(
        "/ui/session",
        "delete",
        operation(
            "ui_sign_out",
            TAG,
            "Sign out: revokes the session's token (the cookie's, or a Bearer access token)",
            {
                "204": answer("signed out"),
                "400": answer(
                    "the credentials presented are no session (Basic, an API key)", house
                ),
            },
        ),
    )
    hidden = {403: "not permitted", 404: "the caller has nothing in this node's account"}
    devices = {"type": "array", "items": part.model(DeviceSummary, mode="serialization")}
    part.add(
        "/ui/api/devices",
        "get",
        operation(
            "ui_devices",
            TAG,
            "This node's devices",
            {"200": answer("the devices", devices), **errors(house, hidden)},
        ),
    )
    described = {
        "type": "object",
        "properties": {
            "device": {"type": "string"},
            "variables": {
                "type": "array",
                "items": part.schema("VariableDescription", _variable()),
            },
            "groups": {
                "type": "array",
                "description": "the dashboard's groups in page order (faces/ui/groups.py)",
                "items": {
                    "type": "object",
                    "properties": {"key": {"type": "string"}, "title": {"type": "string"}},
                    "required": ["key", "title"],
                    "additionalProperties": False,
                },
            },
        },
        "required": ["device", "variables", "groups"],
        "additionalProperties": False,
    }
    part.add(
        "/ui/api/devices/{name}/schema",
        "get",
        operation(
            "ui_schema",
            TAG,
            "A device's state schema, from which the controls are made",
            {
                "200": answer("the schema", described),
                **errors(house, {**hidden, 404: "no such device on this node"}),
            },
            parameters=[path_parameter("name")],
        ),
    )
    part.add(
        "/ui/api/history",
        "get",
        operation(
            "ui_history",
            TAG,
            "Temperatures, pressures and storage over the last hour",
            {
                "200": answer("every series", part.model(History, mode="serialization")),
                **errors(house, {**hidden, 400: "since is not a number"}),
            },
            parameters=[query_parameter("since", {"type": "number"}, "unix seconds")],
        ),
    )
    return part
