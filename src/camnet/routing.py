"""Which route of the application serves a request, for the layers outside the router
(the gate, the body cap, the metrics), which must name a route before it runs.

FastAPI (0.16x) mounts an included router as one opaque route whose ``matches`` answers
for all of its routes; the routes themselves (with their names and full path
templates) are in its ``original_router``. Looking only at the top level would leave
every included route nameless: closed by default at the gate and ``<unmatched>`` in the
metrics, whatever it was declared as.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from starlette.routing import BaseRoute, Match
from starlette.types import Scope


@dataclass(frozen=True, slots=True)
class Found:
    full: BaseRoute | None
    """The route that serves the request."""
    partial: BaseRoute | None
    """The first route with this path but another method (the request is a 405)."""


def find_route(routes: Iterable[BaseRoute], scope: Scope) -> Found:
    partial: BaseRoute | None = None
    for route in routes:
        match, _ = route.matches(scope)
        if match is Match.NONE:
            continue
        inner = _included(route)
        if inner is not None:
            found = find_route(inner, scope)
            if found.full is not None:
                return found
            partial = partial or found.partial
            continue
        if match is Match.FULL:
            return Found(route, partial)
        partial = partial or route
    return Found(None, partial)


def route_name(route: BaseRoute | None) -> str:
    return str(getattr(route, "name", "")) if route is not None else ""


def _included(route: BaseRoute) -> list[BaseRoute] | None:
    router = getattr(route, "original_router", None)
    routes = getattr(router, "routes", None)
    return list(routes) if routes is not None else None
