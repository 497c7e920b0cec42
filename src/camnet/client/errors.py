"""Typed exceptions for every answer camnet refuses, carrying the server's error body.

camnet speaks five dialects and each has its own error body (docs/c2.md,
docs/fleet.md, docs/identity.md, docs/streams.md). :func:`error_from_response` is the one
place that reads all of them, so a caller catches ``NotFound`` whatever the dialect and
still has the body exactly as the server sent it in ``error.body``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Problem:
    """One item of an error's details: what (a variable, a field) and why."""

    key: str
    reason: str


class CamnetError(Exception):
    """Base of every error the client raises.

    ``status`` is the HTTP status (None when no answer arrived), ``dialect`` which body
    form was read (``c2``, ``fleet``, ``identity``, ``oauth``, ``streams`` or ``text``),
    ``code`` the machine-readable code where the dialect has one (c2 ``code``, OAuth
    ``error``), ``body`` the parsed JSON (or the text) and ``details`` the problems the
    body lists.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        dialect: str = "text",
        body: Any = None,
        details: tuple[Problem, ...] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.dialect = dialect
        self.body = body
        self.details = details
        self.headers = dict(headers or {})

    def __str__(self) -> str:
        return self.message if self.status is None else f"{self.status}: {self.message}"


class TransportError(CamnetError):
    """No answer: the server is unreachable, the connection broke, a timeout."""


class ProtocolError(CamnetError):
    """An answer the client cannot read (not the JSON or stream it expected)."""


class BadRequest(CamnetError):
    """400: the request is malformed or a value is not acceptable."""


class ValidationError(BadRequest):
    """400 or 422 with a list of field problems (``details``)."""


class AuthError(CamnetError):
    """401: no or invalid credentials (and a token that could not be renewed)."""


class PermissionDenied(AuthError):
    """403: authenticated, not permitted."""


class NotFound(CamnetError):
    """404 (also what camnet answers for things in an account the caller cannot see)."""


class Conflict(CamnetError):
    """409: the resource's state forbids it (a tagged recording, one being written)."""


class PreconditionFailed(Conflict):
    """412: a stale version (``If-Match``); read again and re-apply."""


class RangeNotSatisfiable(CamnetError):
    """416: a byte range outside the file."""


class RateLimited(CamnetError):
    """429; ``retry_after`` seconds from the ``Retry-After`` header."""

    @property
    def retry_after(self) -> float | None:
        return _retry_after(self.headers)


class Unavailable(CamnetError):
    """503 (maintenance mode, an image not ready yet); ``retry_after`` when given."""

    @property
    def retry_after(self) -> float | None:
        return _retry_after(self.headers)


class ServerError(CamnetError):
    """Any other 5xx."""


_BY_STATUS: dict[int, type[CamnetError]] = {
    400: BadRequest,
    401: AuthError,
    403: PermissionDenied,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    416: RangeNotSatisfiable,
    422: ValidationError,
    429: RateLimited,
    503: Unavailable,
}


def _retry_after(headers: Mapping[str, str]) -> float | None:
    raw = {k.lower(): v for k, v in headers.items()}.get("retry-after")
    try:
        return float(raw) if raw is not None else None
    except ValueError:
        return None


def _read_body(content: bytes) -> Any:
    text = content.decode("utf-8", "replace")
    try:
        return json.loads(text)
    except ValueError:
        return text


def _streams_details(detail: Any) -> tuple[Problem, ...]:
    problems = []
    for item in detail if isinstance(detail, list) else []:
        if isinstance(item, dict):
            location = ".".join(str(p) for p in item.get("loc", []) if p != "body")
            problems.append(Problem(location, str(item.get("msg", ""))))
    return tuple(problems)


def describe(body: Any) -> tuple[str, str | None, str | None, tuple[Problem, ...]]:
    """(dialect, message, code, details) of a parsed error body; message None if unknown."""
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and "message" in error:  # c2
            details = tuple(
                Problem(str(d.get("key", "")), str(d.get("reason", "")))
                for d in error.get("details", [])
                if isinstance(d, dict)
            )
            return "c2", str(error["message"]), error.get("code"), details
        if "httpError" in body:  # fleet
            errors = body.get("error")
            details = tuple(Problem("", str(e)) for e in errors) if isinstance(errors, list) else ()
            return "fleet", str(body.get("message", "")), None, details
        if "error_description" in body:  # OAuth (RFC 6749 §5.2), with the house members
            return "oauth", str(body["error_description"]), str(body.get("error")), ()
        if "statusCode" in body:  # identity and camnet's own resources
            validation = body.get("validation")
            details = ()
            if isinstance(validation, dict):
                details = tuple(Problem(str(k), str(v)) for k, v in validation.items())
            return "identity", str(body.get("message", "")), None, details
        if "detail" in body:  # streams (FastAPI)
            detail = body["detail"]
            details = _streams_details(detail)
            if isinstance(detail, str):
                return "streams", detail, None, ()
            message = "; ".join(f"{p.key}: {p.reason}" if p.key else p.reason for p in details)
            return "streams", message or "invalid request", None, details
    return "text", None, None, ()


def error_from_response(
    status: int, headers: Mapping[str, str], content: bytes, reason: str = ""
) -> CamnetError:
    """The typed exception for an error answer, whichever dialect's body it carries."""
    body = _read_body(content)
    dialect, message, code, details = describe(body)
    if message is None:
        text = body.strip() if isinstance(body, str) else ""
        message = text[:500] or reason or f"HTTP {status}"
    kind = _BY_STATUS.get(status)
    if kind is None:
        kind = ServerError if status >= 500 else CamnetError
    if kind is BadRequest and details:
        kind = ValidationError
    return kind(
        message,
        status=status,
        code=code,
        dialect=dialect,
        body=body,
        details=details,
        headers=headers,
    )


def error_from_message(body: Any) -> CamnetError:
    """A c2 WebSocket error message (``{"error": {...}}``) as an exception."""
    dialect, message, code, details = describe(body)
    status = body["error"].get("status") if dialect == "c2" else None
    kind = _BY_STATUS.get(status, CamnetError) if isinstance(status, int) else CamnetError
    return kind(
        message or str(body), status=status, code=code, dialect=dialect, body=body, details=details
    )
