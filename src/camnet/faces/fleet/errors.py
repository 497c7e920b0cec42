"""The fleet dialect's error body, ``{"httpError": <status>, "message": "…"}``, for every
path under ``/api/v1`` (the gate's 401/429/503 included). Webhook validation errors also
list their messages in the seed's ``error`` array."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from starlette.responses import Response

PREFIX: Final = "/api/v1"


class FleetError(Exception):
    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: Sequence[str] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"httpError": self.status, "message": self.message}
        if self.errors is not None:
            body["error"] = self.errors
        return body

    def response(self) -> Response:
        return Response(
            json.dumps(self.body(), ensure_ascii=False),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def refuse(status: int, _code: str, message: str, headers: Mapping[str, str]) -> Response:
    """The gate's refusals (401, 429, 503) in the fleet dialect."""
    return FleetError(status, message, headers=headers).response()


def is_fleet_path(path: str) -> bool:
    return path == PREFIX or path.startswith(PREFIX + "/")
