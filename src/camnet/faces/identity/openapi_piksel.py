"""What Piksel's JavaScript SDK reads besides the seed's endpoints, in the OpenAPI
document: ``/pauth/tenants``, ``/pauth/access`` and ``/descriptor/raw`` (issue 18)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict

from camnet.faces.identity.errors import HouseError
from camnet.faces.openapi import Part, answer, operation, query_parameter

TAG = "identity"
_STRICT = ConfigDict(extra="forbid")


class Tenant(BaseModel):
    model_config = _STRICT
    ref: str
    owner: str
    name: str
    title: str


class Tenants(BaseModel):
    model_config = _STRICT
    tenants: list[Tenant]


class TenantActions(BaseModel):
    model_config = _STRICT
    tenant: str
    actions: list[str]


class AccessObject(BaseModel):
    """The seed's token verification with ``expiresAt``, as Piksel's SDK reads it."""

    model_config = _STRICT
    tokenType: str
    accessToken: str
    expiresAt: str
    dynamic: bool
    clientId: str | None
    directoryRef: str
    userRef: str
    userType: str
    permissions: list[TenantActions]


class Descriptor(BaseModel):
    model_config = ConfigDict(extra="allow")
    name: str
    urn: str
    title: str
    description: str
    resourcefuls: dict[str, Any]
    routes: list[dict[str, Any]]


def piksel_paths(part: Part) -> None:
    house = part.model(HouseError)
    part.add(
        "/pauth/tenants",
        "get",
        operation(
            "pauth_tenants",
            TAG,
            "The tenants (accounts) the caller holds any permission in, its own first",
            {"200": answer("the tenants", part.model(Tenants, mode="serialization"))},
        ),
    )
    part.add(
        "/pauth/access",
        "get",
        operation(
            "pauth_access",
            TAG,
            "The bearer token's access object, limited to ?tenants=a,b",
            {
                "200": answer("the access", part.model(AccessObject, mode="serialization")),
                "401": answer("the credentials are not a bearer access token", house),
                "404": answer("a tenant the caller holds nothing in", house),
            },
            parameters=[query_parameter("tenants", {"type": "string"}, "comma-separated")],
        ),
    )
    described = operation(
        "descriptor_raw",
        TAG,
        "The node's service descriptor: every operation of this document, as routes",
        {
            "200": answer("the descriptor", part.model(Descriptor, mode="serialization")),
            "400": answer("no ?owner=", house),
            "404": answer("no such account", house),
        },
        parameters=[query_parameter("owner", {"type": "string"}, "the tenant (account)")],
    )
    described["parameters"][0]["required"] = True
    part.add("/descriptor/raw", "get", described)
