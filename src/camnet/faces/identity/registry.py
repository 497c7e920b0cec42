"""``GET /services/{account}``: where this node's services are reachable.

Open, as in the seed (discovery comes before authentication). Every service of a node is
served from the same base URL, the advertised one (``CAMNET_ADVERTISED_URL``) or the
address the server listens on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.identity.errors import ApiError, not_found
from camnet.identity.accounts import ACCOUNT_NAME
from camnet.identity.service import IdentityService

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


def registry_route(
    identity: IdentityService, base_url: str, services: tuple[ServiceEntry, ...]
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
        body = {
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
        return Response(json.dumps(body), media_type="application/json")

    return Route("/services/{account}", services_of, methods=["GET"], name="services_registry")
