"""The identity dialect in the OpenAPI document: the token endpoints (``/oauth/…``,
``/pauth/token``), the service registry (``/services/{account}``) and camnet's own
resources (``/accounts/…``, ``/maintenance``).

Request bodies are the models ``resources.py`` validates with; errors are the house body
(``HouseError``), and the token endpoints' RFC 6749 errors carry the house fields too.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from camnet.faces.identity.errors import HouseError
from camnet.faces.identity.openapi_piksel import piksel_paths
from camnet.faces.identity.resources import (
    JSON_TYPES,
    MaintenanceChange,
    NewAccount,
    NewApiKey,
    NewClient,
    NewUser,
    UserChange,
)
from camnet.faces.openapi import (
    Part,
    Schema,
    answer,
    errors,
    header_parameter,
    json_body,
    operation,
    path_parameter,
)

TAG = "identity"
_STRICT = ConfigDict(extra="forbid")


class OAuthErrorBody(BaseModel):
    """RFC 6749 §5.2 with the house ``statusCode`` and ``message``."""

    model_config = _STRICT
    error: str
    error_description: str
    statusCode: int
    message: str


class Tokens(BaseModel):
    model_config = _STRICT
    token_type: str
    access_token: str
    expires_in: int
    refresh_token: str | None = Field(None, description="absent for client credentials")


class Grant(BaseModel):
    model_config = _STRICT
    tenant: str
    actions: list[str]


class Verification(BaseModel):
    """The seed's ``GET /oauth/token`` answer."""

    model_config = _STRICT
    tokenType: str
    accessToken: str
    expires: str
    dynamic: bool
    clientId: str | None
    directoryRef: str
    userRef: str
    userType: str
    permissions: list[Grant]


class Introspection(BaseModel):
    """RFC 7662: only ``active`` for a token the caller may not see or that is not live."""

    model_config = _STRICT
    active: bool
    token_type: str | None = None
    client_id: str | None = None
    username: str | None = None
    sub: str | None = None
    account: str | None = None
    iat: int | None = None
    exp: int | None = None
    permissions: list[Grant] | None = None


class ServiceEntry(BaseModel):
    model_config = _STRICT
    owner: str
    name: str
    title: str
    location: str
    listener: str | None = None
    machine: str | None = None
    kind: str | None = None
    online: bool | None = None


class Services(BaseModel):
    model_config = _STRICT
    services: list[ServiceEntry]


class AccountName(BaseModel):
    model_config = _STRICT
    name: str


class Accounts(BaseModel):
    model_config = _STRICT
    accounts: list[AccountName]


class User(BaseModel):
    model_config = _STRICT
    account: str
    username: str
    role: str
    email: str | None
    enabled: bool
    version: int
    created: str


class Users(BaseModel):
    model_config = _STRICT
    users: list[User]


class Client(BaseModel):
    model_config = _STRICT
    owner: str
    clientId: str
    grants: list[str]
    role: str
    rateLimit: int | None
    enabled: bool
    created: str


class NewClientAnswer(Client):
    clientSecret: str = Field(description="shown once")


class Clients(BaseModel):
    model_config = _STRICT
    clients: list[Client]


class ApiKey(BaseModel):
    model_config = _STRICT
    account: str
    name: str
    role: str
    created: str
    revoked: str | None


class NewApiKeyAnswer(ApiKey):
    key: str = Field(description="shown once")


class ApiKeys(BaseModel):
    model_config = _STRICT
    apikeys: list[ApiKey]


class MaintenanceState(BaseModel):
    model_config = _STRICT
    active: bool


FORM = "application/x-www-form-urlencoded"


def _form(properties: dict[str, Any], required: list[str]) -> Schema:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"required": True, "content": {FORM: {"schema": schema}}}


def _basic_client() -> list[dict[str, list[str]]]:
    return [{"basic": []}]


def token_paths(part: Part) -> None:
    house = part.model(HouseError)
    oauth = part.model(OAuthErrorBody, mode="serialization")
    tokens = answer("the tokens", part.model(Tokens, mode="serialization"))
    throttled = answer("over a token endpoint's budget; see Retry-After", house)
    text = {"type": "string"}
    grant = {"type": "string", "enum": ["client_credentials", "password", "refresh_token"]}
    issue = operation(
        "oauth_token",
        TAG,
        "Issue tokens to a client (HTTP Basic owner.client_id:secret, or client_id and "
        "client_secret in the form)",
        {
            "200": tokens,
            "400": answer("a missing or bad parameter, or an unsupported grant", oauth),
            "401": answer("the client or the user's credentials are wrong", oauth),
            "429": throttled,
        },
        body=_form(
            {
                "grant_type": grant,
                "username": text,
                "password": text,
                "refresh_token": text,
                "client_id": text,
                "client_secret": text,
            },
            ["grant_type"],
        ),
    )
    issue["security"] = _basic_client()
    part.add("/oauth/token", "post", issue)
    part.add(
        "/oauth/token",
        "get",
        operation(
            "oauth_verify",
            TAG,
            "Verify the access token sent as Authorization: Bearer",
            {
                "200": answer(
                    "who the token is for", part.model(Verification, mode="serialization")
                ),
                "401": answer("no bearer token, or an unknown or expired one", house),
            },
        ),
    )
    login = operation(
        "pauth_token",
        TAG,
        "Issue tokens to a user (no client in between)",
        {
            "200": tokens,
            "400": answer("the body is not JSON or lacks a field", house),
            "401": answer("the username or password is wrong", oauth),
            "415": answer("the body is not application/json", house),
            "429": throttled,
        },
        body=json_body(
            {
                "type": "object",
                "properties": {"username": text, "password": text},
                "required": ["username", "password"],
            },
            media_types=("application/json", "application/vnd.piksel+json"),
        ),
    )
    login["security"] = []
    part.add("/pauth/token", "post", login)
    token_form = _form({"token": text, "token_type_hint": text}, ["token"])
    for path, name, summary, ok in (
        ("/oauth/revoke", "oauth_revoke", "Revoke a token (RFC 7009)", answer("revoked")),
        (
            "/oauth/introspect",
            "oauth_introspect",
            "Whether a token is live, and whose (RFC 7662)",
            answer("the token's state", part.model(Introspection, mode="serialization")),
        ),
    ):
        described = operation(
            name,
            TAG,
            summary,
            {
                "200": ok,
                "400": answer("a missing or bad parameter", oauth),
                "401": answer("the caller is neither a client nor a known principal", oauth),
                "429": throttled,
            },
            body=token_form,
        )
        described["security"] = [{"basic": []}, {"bearer": []}, {"apiKey": []}]
        part.add(path, "post", described)


def registry_paths(part: Part) -> None:
    house = part.model(HouseError)
    part.add(
        "/services/{account}",
        "get",
        operation(
            "services_registry",
            TAG,
            "Where this node's and the network's services are reachable",
            {
                "200": answer("the services", part.model(Services, mode="serialization")),
                "404": answer("no such account", house),
            },
            parameters=[path_parameter("account")],
        ),
    )


def resource_paths(part: Part) -> None:
    house = part.model(HouseError)

    def ok(status: str, why: str, model: type[BaseModel]) -> dict[str, Schema]:
        return {status: answer(why, part.model(model, mode="serialization"))}

    def fails(statuses: dict[int, str]) -> dict[str, Schema]:
        return errors(house, {406: "the Accept header excludes application/json", **statuses})

    def body(
        model: type[BaseModel], media_types: tuple[str, ...] = ("application/json",)
    ) -> Schema:
        return json_body(part.model(model), media_types=media_types)

    written = {
        400: "the body is not JSON or does not validate",
        415: "the body is not application/json",
    }
    account = path_parameter("account")
    hidden = {404: "no such account for this caller"}
    plain = [account]

    def add(path: str, method: str, name: str, summary: str, responses: Any, **extra: Any) -> None:
        part.add(path, method, operation(name, TAG, summary, responses, **extra))

    add(
        "/accounts",
        "get",
        "accounts_list",
        "The accounts the caller may read",
        {**ok("200", "the accounts", Accounts), **fails({})},
    )
    add(
        "/accounts",
        "post",
        "accounts_create",
        "Create an account",
        {
            **ok("201", "created", AccountName),
            **fails({**written, 403: "not permitted", 422: "the account exists"}),
        },
        body=body(NewAccount),
    )
    add(
        "/accounts/{account}",
        "get",
        "account_get",
        "One account",
        {**ok("200", "the account", AccountName), **fails({**hidden, 403: "not permitted"})},
        parameters=plain,
    )
    add(
        "/accounts/{account}/users",
        "get",
        "users_list",
        "The account's users",
        {**ok("200", "the users", Users), **fails({**hidden, 403: "not permitted"})},
        parameters=plain,
    )
    add(
        "/accounts/{account}/users",
        "post",
        "users_create",
        "Create a user",
        {
            **ok("201", "created (ETag: its version)", User),
            **fails({**written, **hidden, 403: "not permitted", 422: "the user exists"}),
        },
        parameters=plain,
        body=body(NewUser),
    )
    username = path_parameter("username")
    add(
        "/accounts/{account}/users/{username}",
        "get",
        "user_get",
        "One user (ETag: its version)",
        {
            **ok("200", "the user", User),
            **fails({404: "no such account or user", 403: "not permitted"}),
        },
        parameters=[account, username],
    )
    add(
        "/accounts/{account}/users/{username}",
        "patch",
        "user_change",
        "Change a user (If-Match or version: the version read)",
        {
            **ok("200", "the user as changed", User),
            **fails(
                {
                    **written,
                    403: "not permitted",
                    404: "no such account or user",
                    412: "the user is at another version",
                    422: "the last admin, the API-User's role, or a taken email",
                }
            ),
        },
        parameters=[
            account,
            username,
            header_parameter("If-Match", {"type": "string"}, 'the version read, e.g. "3"'),
        ],
        body=body(UserChange, JSON_TYPES),
    )
    add(
        "/accounts/{account}/clients",
        "get",
        "clients_list",
        "The account's OAuth clients",
        {**ok("200", "the clients", Clients), **fails({**hidden, 403: "not permitted"})},
        parameters=plain,
    )
    add(
        "/accounts/{account}/clients",
        "post",
        "clients_create",
        "Register an OAuth client",
        {
            **ok("201", "created, with its secret", NewClientAnswer),
            **fails({**written, **hidden, 403: "not permitted", 422: "the client exists"}),
        },
        parameters=plain,
        body=body(NewClient),
    )
    add(
        "/accounts/{account}/clients/{client_id}",
        "get",
        "client_get",
        "One OAuth client",
        {
            **ok("200", "the client", Client),
            **fails({404: "no such account or client", 403: "not permitted"}),
        },
        parameters=[account, path_parameter("client_id")],
    )
    add(
        "/accounts/{account}/apikeys",
        "get",
        "apikeys_list",
        "The account's API keys",
        {**ok("200", "the keys", ApiKeys), **fails({**hidden, 403: "not permitted"})},
        parameters=plain,
    )
    add(
        "/accounts/{account}/apikeys",
        "post",
        "apikeys_create",
        "Create an API key",
        {
            **ok("201", "created; the key is shown once", NewApiKeyAnswer),
            **fails({**written, **hidden, 403: "not permitted", 422: "the key exists"}),
        },
        parameters=plain,
        body=body(NewApiKey),
    )
    add(
        "/accounts/{account}/apikeys/{name}",
        "delete",
        "apikey_revoke",
        "Revoke an API key",
        {
            "204": answer("revoked"),
            **fails({404: "no such account or key", 403: "not permitted"}),
        },
        parameters=[account, path_parameter("name")],
    )
    add(
        "/maintenance",
        "get",
        "maintenance_get",
        "Whether maintenance mode is on",
        {**ok("200", "the mode", MaintenanceState), **fails({403: "not permitted"})},
    )
    add(
        "/maintenance",
        "put",
        "maintenance_set",
        "Switch maintenance mode (every other route answers 503 while it is on)",
        {**ok("200", "the mode", MaintenanceState), **fails({**written, 403: "not permitted"})},
        body=body(MaintenanceChange),
    )


def identity_part() -> Part:
    part = Part()
    token_paths(part)
    registry_paths(part)
    resource_paths(part)
    piksel_paths(part)
    return part
