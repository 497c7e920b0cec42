"""The Gateway's errors in the shape the Gateway always answers: a JSON array of messages.

The network vendor's Gateway answers every request with an array of messages, and its
clients read it as one (``vindex10/pixotope-simple-control`` strips the brackets of a
one-element array before it parses; Companion's module and scripts index ``[0]``). So
camnet's Gateway answers its own errors — a bad message (400), no or wrong credentials
(401), not permitted (403), a body over the limit (413), the rate limit (429),
maintenance (503) — as one ``Log`` named ``Error`` from ``MachineName-Gateway``, as the
Gateway's own "no answer" ``Log`` is, with the HTTP status kept (clients that look at the
status see the failure) and repeated in the value with the reason phrase.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from starlette.responses import Response

from camnet.bus.message import Message, MessageType, Topic


def error_replies(service: str, status: int, message: str) -> list[dict[str, Any]]:
    topic = Topic(MessageType.LOG, target="", source=service, name="Error")
    value = {
        "level": "error",
        "message": message,
        "statusCode": status,
        "error": HTTPStatus(status).phrase,
    }
    return [{"Topic": topic.to_json(), "Message": Message(value=value).to_json()}]


def error_response(
    service: str, status: int, message: str, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json.dumps(error_replies(service, status, message), ensure_ascii=False),
        status_code=status,
        headers=dict(headers or {}),
        media_type="application/json",
    )


class GatewayRefusal:
    """The gate's refusals (401, 429, 503) of Gateway requests, in the array shape."""

    def __init__(self, service: str) -> None:
        self.service = service

    def __call__(
        self, status: int, _code: str, message: str, headers: Mapping[str, str]
    ) -> Response:
        return error_response(self.service, status, message, headers)
