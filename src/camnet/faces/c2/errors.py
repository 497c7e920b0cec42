"""The c2 error body. The seed shows none; camnet's is documented in ``docs/c2.md``:

    {"error": {"status": 400, "code": "invalid_value", "message": "...",
               "details": [{"key": "gain", "reason": "expected a number, got 'x'"}]}}

It is nested under one ``error`` key so a client that reads responses as state objects
can never mistake it for variables (no variable is called ``error``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response


@dataclass(frozen=True, slots=True)
class Problem:
    key: str
    reason: str


@dataclass(slots=True)
class C2Error(Exception):
    status: int
    code: str
    message: str
    details: list[Problem] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"status": self.status, "code": self.code, "message": self.message}
        if self.details:
            error["details"] = [{"key": p.key, "reason": p.reason} for p in self.details]
        return {"error": error}

    def text(self) -> str:
        return json.dumps(self.body(), ensure_ascii=False, separators=(",", ":"))

    def response(self) -> Response:
        return Response(
            self.text(),
            status_code=self.status,
            headers=self.headers,
            media_type="application/json",
        )


def unauthorized() -> C2Error:
    return C2Error(
        401,
        "unauthorized",
        "valid credentials required: query token or password (and user), or HTTP Basic",
        headers={"WWW-Authenticate": 'Basic realm="camnet", charset="UTF-8"'},
    )
