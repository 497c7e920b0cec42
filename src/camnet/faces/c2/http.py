"""``GET``/``POST /api``: read and write the control unit's state over HTTP."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.devices.device import Read, WriteRefused
from camnet.devices.surface import DeviceUnavailable
from camnet.faces.c2.context import C2Context, authenticate, query_pairs
from camnet.faces.c2.errors import C2Error, Problem
from camnet.faces.c2.fanout import dumps
from camnet.faces.c2.parsing import body_operations, json_pairs, query_operations
from camnet.web.numbers import decimal, too_large


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, refusing with 413 as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length")
    refusal = C2Error(413, "body_too_large", f"request bodies are limited to {limit} bytes")
    if declared is not None and (too_large(declared) or (decimal(declared) or 0) > limit):
        raise refusal
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise refusal
        chunks.append(chunk)
    return b"".join(chunks)


def _refuse_safe_write(method: str, browser: bool) -> None:
    """Writes by ``GET /api?name=value`` are the c2 seed's, for callers that present their
    credentials themselves; never by HEAD, and never by the dashboard's cookie alone
    (a link or an ``<img>`` on another page could send it: issue 17 item 6)."""
    if method == "HEAD":
        raise C2Error(
            405,
            "method_not_allowed",
            "HEAD never changes state; write with POST (or GET with credentials)",
            headers={"Allow": "GET, POST"},
        )
    if browser:
        raise C2Error(
            403,
            "csrf",
            "a dashboard session changes state only by POST with its X-Camnet-CSRF header",
        )


def c2_http_route(context: C2Context) -> Route:
    """A plain Starlette route: ``/api`` takes no FastAPI dependency injection, whose
    per-request cost was larger than the c2 handler itself (see docs/benchmarks.md)."""

    async def api(request: Request) -> Response:
        return await serve_api(context, request)

    return Route("/api", api, methods=["GET", "POST"], name="c2_api")


async def serve_api(context: C2Context, request: Request) -> Response:
    """One ``/api`` request to ``context.device``, wherever that device runs."""
    schema = context.device.schema
    pairs = query_pairs(request.scope["query_string"])
    principal = await authenticate(context, pairs, request.headers, request.method)
    if request.method == "POST":
        body = await read_body(request, context.max_body_bytes)
        # Query parameters other than credentials run before the body's members.
        operations = query_operations(pairs, schema, principal.grant) + body_operations(
            json_pairs(body), schema, principal.grant
        )
    else:
        operations = query_operations(pairs, schema, principal.grant)
        if any(not isinstance(op, Read) for op in operations):
            _refuse_safe_write(request.method, principal.browser)
    if not operations:
        operations = [Read(tuple(principal.grant.readable(schema)))]
    try:
        result = await context.device.execute(operations)
    except WriteRefused as exc:
        raise C2Error(
            400, "refused", f"{exc}; nothing was changed", [Problem(exc.variable, exc.reason)]
        ) from None
    except DeviceUnavailable as exc:
        raise C2Error(503, "unavailable", f"{exc}; nothing is known to have changed") from None
    return Response(dumps(result), media_type="application/json")
