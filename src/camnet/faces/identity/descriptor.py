"""``GET /descriptor/raw?owner=NAME``: a Piksel service descriptor of this node.

Piksel's JavaScript SDK asks every service of the registry for its descriptor at
``{location}/descriptor/raw?owner={tenant}`` (``lib/registry.js``,
``getServiceDescriptor``) and reads ``name``, ``title``, ``resourcefuls`` (an object) and
``routes`` (a list of ``{name, path, method, …}``; ``BusinessEndpoint`` fills a path's
``{owner}`` with the tenant and asks the caller for every other ``{param}``).

camnet serves every service of a node at one location (``/services/{account}``), so the
SDK's request for each service arrives at the same URL: the answer is one descriptor of
the node, whose ``routes`` are every operation of ``/openapi.json`` (so the descriptor
cannot disagree with what is served), each with the service it belongs to in ``group``.
The account parameter of camnet's paths is called ``{owner}`` here, so the SDK fills it
with the current tenant. ``resourcefuls`` is empty: camnet has no resource of Piksel's
generic ``/data/{resource}`` shape, and describing one would promise what is not served.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.identity.errors import ApiError, not_found
from camnet.identity.accounts import ACCOUNT_NAME
from camnet.identity.service import IdentityService

METHODS: Final = ("get", "put", "post", "patch", "delete")
ACCOUNT_PARAMETERS: Final = ("{account}",)
"""Path parameters that name an account: the SDK's ``{owner}``."""


def _query_inputs(described: dict[str, Any]) -> list[dict[str, Any]]:
    inputs = []
    for parameter in described.get("parameters", []):
        if parameter.get("in") != "query":
            continue
        schema = parameter.get("schema", {})
        inputs.append(
            {
                "name": parameter["name"],
                "type": schema.get("type", "string"),
                "required": bool(parameter.get("required", False)),
            }
        )
    return inputs


def node_descriptor(document: dict[str, Any], machine: str) -> dict[str, Any]:
    """The descriptor of the node whose OpenAPI document is ``document`` (pure)."""
    routes = []
    for path, item in sorted(document.get("paths", {}).items()):
        shown = path
        for parameter in ACCOUNT_PARAMETERS:
            shown = shown.replace(parameter, "{owner}")
        for method in METHODS:
            described = item.get(method)
            if described is None:
                continue
            tags = described.get("tags") or ["camnet"]
            summary = described.get("summary") or f"{method.upper()} {path}"
            routes.append(
                {
                    "name": described.get("operationId") or f"{method}_{path}",
                    "title": summary,
                    "group": tags[0],
                    "actions": [],
                    "path": shown,
                    "method": method.upper(),
                    "description": summary,
                    "auth": bool(described.get("security", [])),
                    "stability": "stable",
                    "inputs": {"query": _query_inputs(described)},
                    "responses": [],
                }
            )
    return {
        "name": "camnet",
        "urn": f"urn:camnet:node:{machine}",
        "title": f"camnet node {machine}",
        "description": "Every service of this camnet node (identity, registry, c2, streams, "
        "fleet, gateway and the network's devices) is served at this one location; "
        "its routes are the operations of /openapi.json.",
        "resourcefuls": {},
        "routes": routes,
    }


def descriptor_route(
    identity: IdentityService, document: Callable[[], dict[str, Any]], machine: str
) -> Route:
    """Open, as ``/services/{account}`` and ``/openapi.json`` are: it describes, it does
    not disclose anything those two do not."""
    cached: list[dict[str, Any]] = []

    async def raw(request: Request) -> Response:
        owner = request.query_params.get("owner", "")
        try:
            if not owner:
                raise ApiError(
                    400, "name the tenant: ?owner=ACCOUNT", validation={"owner": "required"}
                )
            if not ACCOUNT_NAME.match(owner) or not await identity.run_sync(
                identity.accounts.exists, owner
            ):
                raise not_found(f"account {owner!r}")
        except ApiError as error:
            return error.response()
        if not cached:
            cached.append(node_descriptor(document(), machine))
        return Response(json.dumps(cached[0]), media_type="application/json")

    return Route("/descriptor/raw", raw, methods=["GET"], name="descriptor_raw")
