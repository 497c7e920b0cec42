"""camnet's own identity resources, in the house style and error format:

    GET  POST          /accounts
    GET                /accounts/{account}
    GET  POST          /accounts/{account}/users
    GET  PATCH         /accounts/{account}/users/{username}     (versioned: ETag/If-Match)
    GET  POST          /accounts/{account}/clients
    GET                /accounts/{account}/clients/{client_id}
    GET  POST          /accounts/{account}/apikeys
    DELETE             /accounts/{account}/apikeys/{name}
    GET  PUT           /maintenance

Tenancy: an account the caller holds no permission in does not exist for it (404, never
403), so a token of one account cannot even learn another's names. Inside an account it
can see, a missing permission is 403.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.exc import IntegrityError, OperationalError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet import strict_json
from camnet.faces.identity.errors import ApiError, not_found
from camnet.identity.accounts import ACCOUNT_NAME, AccountError
from camnet.identity.apikeys import ApiKeyError
from camnet.identity.clients import CLIENT_ID, ClientError
from camnet.identity.gate import Maintenance, principal_of
from camnet.identity.permissions import DEFAULT_ACCOUNT, Principal, Role
from camnet.identity.service import IdentityService
from camnet.identity.users import UserRecord, generate_secret
from camnet.maintenance import MaintenanceSwitch
from camnet.web.numbers import decimal

log = logging.getLogger(__name__)

JSON_TYPES: Final = ("application/json", "application/merge-patch+json")
MAX_BODY: Final = 64 * 1024
USERNAME_PATTERN: Final = r"^[A-Za-z0-9_.@\-]{1,64}$"
ASSIGNABLE_ROLES = Literal["admin", "operator", "viewer"]

Handler = Callable[[Request], Awaitable[Response]]
M = TypeVar("M", bound=BaseModel)


# -- request and response helpers ----------------------------------------------------------


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=headers,
        media_type="application/json",
    )


def accepts_json(request: Request) -> bool:
    """Whether the ``Accept`` header (if any) admits ``application/json``."""
    accept = request.headers.get("accept")
    if not accept:
        return True
    for part in accept.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        if media.lower() in ("*/*", "application/*", "application/json"):
            return True
    return False


async def json_body(request: Request) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in JSON_TYPES:
        raise ApiError(
            415, f"send a JSON body (Content-Type: application/json), not {content_type or 'none'}"
        )
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise ApiError(400, f"bodies are limited to {MAX_BODY} bytes")
        chunks.append(chunk)
    try:
        return strict_json.loads(b"".join(chunks))
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not valid JSON") from None


def validate(model: type[M], body: Any) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        validation = {
            ".".join(str(p) for p in error["loc"]) or "body": error["msg"] for error in exc.errors()
        }
        raise ApiError(400, "the body does not validate", validation=validation) from None


def caller(request: Request) -> Principal:
    principal = principal_of(request.scope)
    if principal is None:  # the gate lets no request without one reach these routes
        raise ApiError(401, "valid credentials required")
    return principal


def house(handler: Handler) -> Handler:
    """Content negotiation and the error format for every resource handler."""

    async def endpoint(request: Request) -> Response:
        try:
            if not accepts_json(request):
                raise ApiError(406, "this resource is available as application/json only")
            return await handler(request)
        except ApiError as error:
            return error.response()
        except OperationalError:
            log.exception("the database failed during %s %s", request.method, request.url.path)
            return ApiError(502, "the database did not answer; please try again later").response()

    return endpoint


# -- bodies ----------------------------------------------------------------------------------


class NewAccount(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=ACCOUNT_NAME.pattern)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(pattern=USERNAME_PATTERN)
    password: str = Field(min_length=8, max_length=1024)
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    role: ASSIGNABLE_ROLES = "operator"


class UserChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$", max_length=254)
    enabled: bool | None = None
    role: ASSIGNABLE_ROLES | None = None
    password: str | None = Field(None, min_length=8, max_length=1024)
    version: int | None = Field(None, ge=1)


class NewClient(BaseModel):
    model_config = ConfigDict(extra="forbid")
    clientId: str = Field(pattern=CLIENT_ID.pattern)
    grants: list[Literal["client_credentials", "password", "refresh_token"]] = Field(
        default=["client_credentials"], min_length=1
    )
    role: ASSIGNABLE_ROLES = "operator"
    rateLimit: int | None = Field(None, ge=1, le=10_000_000)


class NewApiKey(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9_\-.]{1,64}$")
    role: ASSIGNABLE_ROLES = "operator"


class MaintenanceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    active: bool


# -- routes ----------------------------------------------------------------------------------


def _etag(user: UserRecord) -> str:
    return f'"{user.version}"'


def _if_match(request: Request) -> int | None:
    value = request.headers.get("if-match")
    if value is None:
        return None
    version = decimal(value.strip().removeprefix("W/").strip('"'))
    if version is None:
        raise ApiError(412, 'If-Match must name a version this resource had, e.g. "3"')
    return version


def identity_resource_routes(
    identity: IdentityService, maintenance: Maintenance, switch: MaintenanceSwitch
) -> list[Route]:
    run = identity.run_sync

    async def visible_account(request: Request, action: str) -> tuple[Principal, str]:
        """The account named in the path, if the caller can see it and may ``action``."""
        principal = caller(request)
        account = request.path_params["account"]
        if not principal.permissions.has_tenant(account) or not await run(
            identity.accounts.exists, account
        ):
            raise not_found(f"account {account!r}")
        if not principal.may(account, action):
            raise ApiError(403, f"{principal.user} may not {action} in account {account!r}")
        return principal, account

    async def list_accounts(request: Request) -> Response:
        principal = caller(request)
        names = await run(identity.accounts.names)
        shown = [
            name
            for name in names
            if principal.permissions.has_tenant(name)
            and principal.may(name, "identity:accounts:read")
        ]
        return json_response({"accounts": [{"name": name} for name in shown]})

    async def create_account(request: Request) -> Response:
        principal = caller(request)
        body = validate(NewAccount, await json_body(request))
        if not principal.may(body.name, "identity:accounts:write") or not principal.may(
            "*", "identity:accounts:write"
        ):
            raise ApiError(403, f"{principal.user} may not create accounts")
        try:
            await run(identity.accounts.create, body.name)
        except AccountError as exc:
            raise ApiError(422, str(exc)) from None
        return json_response({"name": body.name}, 201, {"Location": f"/accounts/{body.name}"})

    async def get_account(request: Request) -> Response:
        _, account = await visible_account(request, "identity:accounts:read")
        return json_response({"name": account})

    async def list_users(request: Request) -> Response:
        _, account = await visible_account(request, "identity:users:read")
        users = await run(identity.users.list, account)
        return json_response({"users": [user.public() for user in users]})

    async def create_user(request: Request) -> Response:
        _, account = await visible_account(request, "identity:users:write")
        body = validate(NewUser, await json_body(request))
        try:
            user = await run(
                identity.users.create,
                body.username,
                Role(body.role),
                body.password,
                account=account,
                email=body.email,
            )
        except IntegrityError:
            raise ApiError(
                422, f"user {body.username!r} or email {body.email!r} exists already"
            ) from None
        return json_response(
            user.public(),
            201,
            {"Location": f"/accounts/{account}/users/{user.name}", "ETag": _etag(user)},
        )

    async def get_user(request: Request) -> Response:
        _, account = await visible_account(request, "identity:users:read")
        user = await run(identity.users.get, request.path_params["username"], account)
        if user is None:
            raise not_found(f"user {request.path_params['username']!r}")
        return json_response(user.public(), headers={"ETag": _etag(user)})

    async def change_user(request: Request) -> Response:
        principal, account = await visible_account(request, "identity:users:write")
        username = request.path_params["username"]
        raw = await json_body(request)
        change = validate(UserChange, raw)
        expected = _if_match(request)
        if expected is None:
            expected = change.version
        current = await run(identity.users.get, username, account)
        if current is None:
            raise not_found(f"user {username!r}")
        if expected is not None and expected != current.version:
            raise ApiError(
                412,
                f"user {username!r} is at version {current.version}, not {expected}; "
                "read it again and re-apply the change",
            )
        demoting = (change.role is not None and change.role != "admin") or change.enabled is False
        if demoting and current.role is Role.ADMIN and current.account == DEFAULT_ACCOUNT:
            admins = [
                u
                for u in await run(identity.users.list, DEFAULT_ACCOUNT)
                if u.role is Role.ADMIN and u.enabled
            ]
            if len(admins) <= 1:
                raise ApiError(
                    422, "this is the node's last enabled admin; it cannot be disabled or demoted"
                )
        if current.role is Role.API and change.role is not None:
            raise ApiError(422, "the c2 API-User's role is fixed")
        fields = raw if isinstance(raw, dict) else {}
        try:
            updated = await run(
                identity.users.change,
                account,
                username,
                current.version if expected is None else expected,
                email=change.email if "email" in fields else ...,
                enabled=change.enabled,
                role=Role(change.role) if change.role else None,
                password=change.password,
            )
        except IntegrityError:
            raise ApiError(422, f"email {change.email!r} belongs to another user") from None
        if updated is None:
            raise ApiError(412, f"user {username!r} changed meanwhile; read it again")
        if change.password is not None:
            # Issue 17 item 7: every token of the user ends, but the caller's own session.
            own = principal.session[2:] if principal.session.startswith("t:") else None
            now = identity.clock.now()
            await run(identity.tokens.revoke_subject, "user", updated.id, now, own)
        identity.forget()
        log.info("user %s\\%s changed by %s", account, username, principal.user)
        return json_response(updated.public(), headers={"ETag": _etag(updated)})

    async def list_clients(request: Request) -> Response:
        _, account = await visible_account(request, "identity:clients:read")
        clients = await run(identity.clients.list, account)
        return json_response({"clients": [client.public() for client in clients]})

    async def create_client(request: Request) -> Response:
        _, account = await visible_account(request, "identity:clients:write")
        body = validate(NewClient, await json_body(request))
        secret = generate_secret()
        try:
            client = await run(
                identity.clients.create,
                account,
                body.clientId,
                secret,
                tuple(dict.fromkeys(body.grants)),
                Role(body.role),
                body.rateLimit,
            )
        except ClientError as exc:
            raise ApiError(422, str(exc)) from None
        shown = {**client.public(), "clientSecret": secret}
        return json_response(
            shown, 201, {"Location": f"/accounts/{account}/clients/{client.client_id}"}
        )

    async def get_client(request: Request) -> Response:
        _, account = await visible_account(request, "identity:clients:read")
        client = await run(identity.clients.get, account, request.path_params["client_id"])
        if client is None:
            raise not_found(f"client {request.path_params['client_id']!r}")
        return json_response(client.public())

    async def list_keys(request: Request) -> Response:
        _, account = await visible_account(request, "identity:apikeys:read")
        keys = await run(identity.api_keys.list, account)
        return json_response({"apikeys": [key.public() for key in keys]})

    async def create_key(request: Request) -> Response:
        _, account = await visible_account(request, "identity:apikeys:write")
        body = validate(NewApiKey, await json_body(request))
        try:
            record, key = await run(identity.api_keys.create, account, body.name, Role(body.role))
        except ApiKeyError as exc:
            raise ApiError(422, str(exc)) from None
        return json_response(
            {**record.public(), "key": key},
            201,
            {"Location": f"/accounts/{account}/apikeys/{record.name}"},
        )

    async def revoke_key(request: Request) -> Response:
        _, account = await visible_account(request, "identity:apikeys:write")
        if not await run(identity.api_keys.revoke, account, request.path_params["name"]):
            raise not_found(f"API key {request.path_params['name']!r}")
        identity.forget()
        return Response(status_code=204)

    async def get_maintenance(request: Request) -> Response:
        principal = caller(request)
        if not principal.may(DEFAULT_ACCOUNT, "camnet:maintenance:read"):
            raise ApiError(403, f"{principal.user} may not read the maintenance mode")
        return json_response({"active": maintenance.active})

    async def set_maintenance(request: Request) -> Response:
        principal = caller(request)
        if not principal.may(DEFAULT_ACCOUNT, "camnet:maintenance:write"):
            raise ApiError(403, f"{principal.user} may not change the maintenance mode")
        body = validate(MaintenanceChange, await json_body(request))
        await switch.set(body.active)
        log.warning("maintenance mode %s by %s", "on" if body.active else "off", principal.user)
        return json_response({"active": maintenance.active})

    return [
        resource("/accounts", "accounts", GET=list_accounts, POST=create_account),
        resource("/accounts/{account}", "account", GET=get_account),
        resource("/accounts/{account}/users", "users", GET=list_users, POST=create_user),
        resource("/accounts/{account}/users/{username}", "user", GET=get_user, PATCH=change_user),
        resource("/accounts/{account}/clients", "clients", GET=list_clients, POST=create_client),
        resource("/accounts/{account}/clients/{client_id}", "client", GET=get_client),
        resource("/accounts/{account}/apikeys", "apikeys", GET=list_keys, POST=create_key),
        resource("/accounts/{account}/apikeys/{name}", "apikey", DELETE=revoke_key),
        resource("/maintenance", "maintenance", GET=get_maintenance, PUT=set_maintenance),
    ]


def resource(path: str, name: str, **handlers: Handler) -> Route:
    """One route per path, so a wrong method gets 405 with every allowed one in Allow."""
    wrapped = {method: house(handler) for method, handler in handlers.items()}
    if "GET" in wrapped:
        wrapped["HEAD"] = wrapped["GET"]

    async def dispatch(request: Request) -> Response:
        return await wrapped[request.method](request)

    return Route(path, dispatch, methods=list(wrapped), name=name)
