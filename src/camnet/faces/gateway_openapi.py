"""The Gateway (``/gateway/{version}/publish``) in the OpenAPI document: the network
seed's message (``Topic`` and ``Message``) in, the messages that answered out."""

from __future__ import annotations

from typing import Any

from camnet.bus.message import MessageType
from camnet.faces.gateway import TOPIC_KEYS
from camnet.faces.openapi import (
    Part,
    Schema,
    answer,
    errors,
    json_body,
    operation,
    path_parameter,
    query_parameter,
)

TAG = "network"
GATEWAY_ERRORS = "GatewayErrorReplies"
"""The schema of the Gateway's errors: an array holding one ``Log`` (``gateway_errors``)."""
_TEXT: Schema = {"type": "string"}


def _topic(*, sent: bool) -> Schema:
    """A topic as the caller sends it (``Source``/``RespondTo`` are the Gateway's), or as
    an answer carries it (every field the seed has, empty ones left out)."""
    keys = TOPIC_KEYS if sent else (*TOPIC_KEYS, "Source", "RespondTo", "ExecutedOn")
    properties: dict[str, Any] = {key: dict(_TEXT) for key in keys}
    properties["Type"] = {"type": "string", "enum": [t.value for t in MessageType]}
    return {
        "type": "object",
        "properties": properties,
        "required": ["Type"],
        "additionalProperties": not sent,
    }


def _message() -> Schema:
    return {
        "type": "object",
        "properties": {"Value": {}, "Params": {}, "Result": {}},
        "additionalProperties": False,
    }


def gateway_part() -> Part:
    part = Part()
    message = part.schema("BusMessage", _message())
    sent = {
        "type": "object",
        "properties": {"Topic": part.schema("BusTopicSent", _topic(sent=True)), "Message": message},
        "required": ["Topic"],
        "additionalProperties": False,
    }
    answered = {
        "type": "object",
        "properties": {"Topic": part.schema("BusTopic", _topic(sent=False)), "Message": message},
        "required": ["Topic", "Message"],
        "additionalProperties": False,
    }
    failed = part.schema(GATEWAY_ERRORS, {"type": "array", "items": answered})
    replies = {
        "200": answer(
            "the messages that came back: a reply (or the Gateway's own error Log when "
            "nothing answered), the Self answers to an Identify, nothing for an Update",
            {"type": "array", "items": answered},
        ),
        **errors(
            failed,
            {
                400: "not a message of the seed",
                403: "reading needs network:bus:read, anything else network:bus:write",
                413: "the body is over max_body_bytes",
            },
        ),
    }
    version = path_parameter("version", {"type": "string"}, "the Gateway API version, e.g. v1")
    query = [
        query_parameter("Type", _topic(sent=True)["properties"]["Type"]),
        *(query_parameter(key, dict(_TEXT)) for key in TOPIC_KEYS if key != "Type"),
        query_parameter("Value", dict(_TEXT), "JSON-decoded when it parses, else text"),
    ]
    part.add(
        "/gateway/{version}/publish",
        "get",
        operation(
            "gateway_publish_query",
            TAG,
            "Publish one message given as query parameters (Param<Key>= for Params)",
            replies,
            parameters=[version, *query],
        ),
    )
    part.add(
        "/gateway/{version}/publish",
        "post",
        operation(
            "gateway_publish",
            TAG,
            "Publish one message",
            replies,
            parameters=[version],
            body=json_body(sent),
        ),
    )
    return part
