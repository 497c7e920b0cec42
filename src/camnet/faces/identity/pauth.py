"""``GET /pauth/tenants`` and ``GET /pauth/access``: what Piksel's JavaScript SDK reads
right after it has a token (``lib/session.js``, ``populateTenants``/``populateAccess``).

A Piksel *tenant* is a camnet *account*: the tenants of a caller are the accounts in which
it holds any permission (every account for the node's administrators, whose permissions
name the tenant ``*``), its own account first. The *access* object is the seed's token
verification body with ``expiresAt`` (the name the SDK's fixtures and its expiry timer
use) in place of ``expires``, limited to the tenants asked for in ``?tenants=a,b``.
A tenant the caller cannot see answers 404, as every question about such an account does.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.identity.errors import ApiError, not_found
from camnet.faces.identity.registry import SERVICE_OWNER
from camnet.faces.identity.resources import caller, house
from camnet.identity.permissions import Principal
from camnet.identity.service import IdentityService

_BEARER_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="camnet"'}


def _json(body: Any) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        headers={"Cache-Control": "no-store"},
        media_type="application/json",
    )


def tenant_entry(name: str) -> dict[str, str]:
    """A tenant as Piksel's identity lists one (``test/fixtures/tenants.json``)."""
    return {"ref": f"{SERVICE_OWNER}:{name}", "owner": SERVICE_OWNER, "name": name, "title": name}


def visible_tenants(principal: Principal, accounts: list[str]) -> list[str]:
    """The accounts ``principal`` holds anything in; its own account first."""
    seen = [name for name in accounts if principal.permissions.has_tenant(name)]
    if principal.account in seen:
        seen.remove(principal.account)
        seen.insert(0, principal.account)
    return seen


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(
            401,
            "the access object describes an access token: send it as "
            "'Authorization: Bearer <token>'",
            headers=_BEARER_CHALLENGE,
        )
    return token.strip()


def pauth_routes(identity: IdentityService) -> list[Route]:
    async def tenants(request: Request) -> Response:
        principal = caller(request)
        accounts = await identity.run_sync(identity.accounts.names)
        names = visible_tenants(principal, accounts)
        return _json({"tenants": [tenant_entry(name) for name in names]})

    async def access(request: Request) -> Response:
        principal = caller(request)
        token = _bearer(request)
        session = await identity.access_session(token)
        if session is None:  # the gate accepted it a moment ago; it expired since
            raise ApiError(401, "the access token is unknown, expired or revoked")
        body: dict[str, Any] = session.verification(token)
        body["expiresAt"] = body.pop("expires")
        wanted = [name for name in request.query_params.get("tenants", "").split(",") if name]
        if wanted:
            for name in wanted:
                if not principal.permissions.has_tenant(name):
                    raise not_found(f"tenant {name!r}")
            body["permissions"] = [
                {
                    "tenant": name,
                    "actions": sorted(str(a) for a in principal.permissions.actions_in(name)),
                }
                for name in wanted
            ]
        return _json(body)

    return [
        Route("/pauth/tenants", house(tenants), methods=["GET"], name="pauth_tenants"),
        Route("/pauth/access", house(access), methods=["GET"], name="pauth_access"),
    ]
