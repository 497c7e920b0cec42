"""Request and response helpers shared by the fleet routes."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from starlette.requests import Request
from starlette.responses import Response

from camnet import strict_json
from camnet.faces.fleet.errors import FleetError
from camnet.fleet.paging import MAX_PER_PAGE, Page, PageTooLarge, QueryError
from camnet.fleet.service import FleetService
from camnet.identity.gate import principal_of
from camnet.identity.permissions import Principal
from camnet.identity.service import IdentityService

log = logging.getLogger(__name__)

MAX_BODY: Final = 64 * 1024
Handler = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class FleetContext:
    fleet: FleetService
    identity: IdentityService
    max_page_size: int = MAX_PER_PAGE
    on_refusal: Callable[[str], None] | None = None
    """Told the limit's name whenever one refuses a request (the metrics count it)."""

    def refused(self, limit: str) -> None:
        if self.on_refusal is not None:
            self.on_refusal(limit)

    def page(self, request: Request) -> Page:
        """The page a list request asks for; a ``per_page`` above ``max_page_size`` is
        the dialect's 422, counted as the ``page_size`` limit."""
        query = request.query_params
        try:
            return Page.parse(query.get("page"), query.get("per_page"), self.max_page_size)
        except PageTooLarge:
            self.refused("page_size")
            raise


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise FleetError(415, "send a JSON body (Content-Type: application/json)")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise FleetError(413, f"bodies are limited to {MAX_BODY} bytes")
        chunks.append(chunk)
    try:
        return strict_json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise FleetError(400, "the body is not valid JSON") from None


def messages(exc: ValidationError) -> list[str]:
    out = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "body"
        out.append(f"{where}: {error['msg']}")
    return out


def validate(model: type[M], body: Any, *, with_errors: bool = False) -> M:
    """The fleet 422: the first problem in ``message``; all of them in ``error`` when the
    dialect's body has that array (webhooks)."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        found = messages(exc)
        raise FleetError(422, "; ".join(found), errors=found if with_errors else None) from None


def caller(request: Request) -> Principal:
    principal = principal_of(request.scope)
    if principal is None:  # the gate lets no request without one reach these routes
        raise FleetError(401, "valid credentials required")
    return principal


def fleet(handler: Handler) -> Handler:
    """The fleet error body for everything a handler raises on purpose."""

    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except FleetError as error:
            return error.response()
        except QueryError as error:
            return FleetError(422, str(error)).response()
        except OperationalError:
            log.exception("the database failed during %s %s", request.method, request.url.path)
            return FleetError(502, "the database did not answer; please try again later").response()

    return endpoint
