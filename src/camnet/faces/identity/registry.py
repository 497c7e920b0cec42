"""``GET /services/{account}``: where this node's services are reachable.

After the seed's entries come the services of the whole network as presence hears them
(``network_entries``): each bus service with its ``machine``, ``kind`` and ``online``
state, located at this node (whose faces serve the devices of every node), and the
Gateway (served at this node, and at its own ``listener`` URL when that runs).

Open, as in the seed (discovery comes before authentication). Every service of a node is
served from the same base URL, the advertised one (``CAMNET_ADVERTISED_URL``) or the
address the server listens on.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.identity.errors import ApiError, not_found
from camnet.identity.accounts import ACCOUNT_NAME
from camnet.identity.service import IdentityService
from camnet.network.presence import Presence

SERVICE_OWNER = "root"


@dataclass(frozen=True, slots=True)
class ServiceEntry:
    name: str
    title: str


DEFAULT_SERVICES = (
    ServiceEntry("identity", "Identity Service"),
    ServiceEntry("registry", "Registry Service"),
    ServiceEntry("c2", "Control Unit Service"),
)


NetworkEntries = Callable[[], list[dict[str, Any]]]
"""More entries, made per request: the services of the network (``network_entries``)."""


def registry_route(
    identity: IdentityService,
    base_url: str,
    services: tuple[ServiceEntry, ...],
    network: NetworkEntries | None = None,
) -> Route:
    async def services_of(request: Request) -> Response:
        account = request.path_params["account"]
        try:
            if not ACCOUNT_NAME.match(account) or not await identity.run_sync(
                identity.accounts.exists, account
            ):
                raise not_found(f"account {account!r}")
        except ApiError as error:
            return error.response()
        body: dict[str, list[dict[str, Any]]] = {
            "services": [
                {
                    "owner": SERVICE_OWNER,
                    "name": service.name,
                    "title": service.title,
                    "location": base_url,
                }
                for service in services
            ]
        }
        if network is not None:
            body["services"].extend(network())
        return Response(json.dumps(body), media_type="application/json")

    return Route("/services/{account}", services_of, methods=["GET"], name="services_registry")


def network_entries(
    presence: Presence, base_url: str, gateway_url: Callable[[], str | None]
) -> NetworkEntries:
    """The registry entries of the network's services, from ``presence``."""

    def entries() -> list[dict[str, Any]]:
        now = presence.now()
        out: list[dict[str, Any]] = []
        gateway = gateway_url()
        entry: dict[str, Any] = {"owner": SERVICE_OWNER, "name": "gateway", "title": "Gateway"}
        entry["location"] = base_url
        if gateway is not None:
            entry["listener"] = gateway  # the Gateway's own port, as the vendor's 16208
        out.append(entry)
        for info in presence.services():
            out.append(
                {
                    "owner": SERVICE_OWNER,
                    "name": info.name,
                    "title": f"{info.kind} on {info.machine}",
                    "location": base_url,
                    "machine": info.machine,
                    "kind": info.kind,
                    "online": info.online(now),
                }
            )
        return out

    return entries
