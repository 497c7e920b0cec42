"""FastAPI routes that read JSON bodies with ``camnet.strict_json``.

FastAPI decodes a body with Starlette's ``Request.json`` (plain ``json.loads``), which
takes ``NaN``, ``1e999`` and lone surrogates; those then made a 500 when the 422 that
echoes the input, or the answer, was encoded. The route class swaps in a request whose
``json`` is strict: its ``StrictJsonError`` is a ``JSONDecodeError``, which FastAPI
answers with the dialect's own 422 ``json_invalid``."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from camnet import strict_json


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = strict_json.loads(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict
