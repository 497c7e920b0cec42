"""``POST /api/v1/auth/login``, ``/auth/refresh`` and ``/api-keys``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet.faces.fleet.common import (
    FleetContext,
    caller,
    fleet,
    json_body,
    json_response,
    validate,
)
from camnet.faces.fleet.errors import FleetError
from camnet.fleet import sessions
from camnet.identity.apikeys import ApiKeyError
from camnet.identity.permissions import Role
from camnet.identity.throttle import Throttled

SCOPES = {"read": Role.VIEWER, "write": Role.OPERATOR, "admin": Role.ADMIN}


class Login(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(min_length=1, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class Refresh(BaseModel):
    model_config = ConfigDict(extra="ignore")
    refresh_token: str = Field(min_length=1, max_length=256)


class NewKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_\-.]{1,64}$")
    scope: Literal["read", "write", "admin"] = "read"


def auth_routes(context: FleetContext) -> list[Route]:
    identity = context.identity

    async def login(request: Request) -> Response:
        body = validate(Login, await json_body(request))
        address = request.client.host if request.client else None
        try:
            user = await identity.passwords.user_by_email(address, body.email, body.password)
        except Throttled as refused:
            raise FleetError(
                429,
                f"too many failed sign-ins; try again in {refused.retry_after} s",
                headers={"Retry-After": str(refused.retry_after)},
            ) from None
        if user is None:
            raise FleetError(401, "the email or password is wrong")
        session = await identity.run_sync(sessions.login, identity, user)
        return json_response(session.body(), headers={"Cache-Control": "no-store"})

    async def refresh(request: Request) -> Response:
        body = validate(Refresh, await json_body(request))
        try:
            session = await identity.run_sync(sessions.refresh, identity, body.refresh_token)
        except sessions.SignInFailed as exc:
            identity.forget()  # a reused token revoked its session: drop cached tokens now
            raise FleetError(401, str(exc)) from None
        identity.forget()
        return json_response(session.body(), headers={"Cache-Control": "no-store"})

    async def new_key(request: Request) -> Response:
        principal = caller(request)
        body = validate(NewKey, await json_body(request))
        account = principal.account
        if not principal.may(account, "fleet:apikeys:write"):
            raise FleetError(403, "you may not create API keys")
        role = SCOPES[body.scope]
        if role is Role.ADMIN and principal.role is not Role.ADMIN:
            raise FleetError(403, "only administrators may create admin keys")
        if role is Role.OPERATOR and not principal.may(account, "fleet:devices:write"):
            raise FleetError(403, "you may not create keys that write")
        try:
            record, key = await identity.run_sync(
                identity.api_keys.create, account, body.name, role
            )
        except ApiKeyError as exc:
            raise FleetError(409 if "exists" in str(exc) else 422, str(exc)) from None
        identity.forget()
        return json_response(
            {
                "data": {
                    "name": record.name,
                    "scope": body.scope,
                    "account": record.account,
                    "key": key,
                    "created": record.public()["created"],
                }
            },
            status=201,
            headers={"Cache-Control": "no-store"},
        )

    return [
        Route("/api/v1/auth/login", fleet(login), methods=["POST"], name="fleet_login"),
        Route("/api/v1/auth/refresh", fleet(refresh), methods=["POST"], name="fleet_refresh"),
        Route("/api/v1/api-keys", fleet(new_key), methods=["POST"], name="fleet_api_keys"),
    ]
