"""The identity seed's error body, used for identity and for camnet's own resources:

    {"statusCode": 404, "error": "Not Found", "message": "...", "validation": {...}}

``error`` is the HTTP reason phrase; ``validation`` appears on 400s caused by a body that
does not validate. The seed's table swaps 401 and 403; camnet follows HTTP instead
(401: no or invalid credentials, 403: authenticated but not permitted), see
``docs/identity.md``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response


class HouseError(BaseModel):
    """The body ``ApiError.body`` makes, as a model for the OpenAPI document (the gate's
    401, 403, 429 and 503 use it too)."""

    statusCode: int
    error: str
    message: str
    validation: Any = None


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        validation: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.validation = validation
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "statusCode": self.status,
            "error": HTTPStatus(self.status).phrase,
            "message": self.message,
        }
        if self.validation is not None:
            body["validation"] = self.validation
        return body

    def response(self) -> Response:
        return Response(
            json.dumps(self.body(), ensure_ascii=False),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def refuse(status: int, _code: str, message: str, headers: Mapping[str, str]) -> Response:
    """The gate's refusals (401, 429, 503) in this dialect."""
    return ApiError(status, message, headers=headers).response()


def not_found(what: str) -> ApiError:
    return ApiError(404, f"{what} not found")
