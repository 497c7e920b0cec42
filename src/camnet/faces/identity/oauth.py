"""``/oauth/token`` (issue and verify), ``/pauth/token``, ``/oauth/revoke`` (RFC 7009) and
``/oauth/introspect`` (RFC 7662).

The token endpoints are open (the client authenticates itself with HTTP Basic
``owner.client_id:secret``, as the seed's curl lines build it) and throttled: a budget
of requests per source address and per client each minute, a budget of failed attempts
per source address each minute, and a back-off that locks out a client or a username
after a few failures (see docs/identity.md). Errors follow RFC 6749 §5.2
(``error``, ``error_description``) and carry the house ``statusCode`` and ``message`` too.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet import strict_json
from camnet.faces.identity.errors import ApiError
from camnet.identity.clients import ClientRecord
from camnet.identity.permissions import Principal
from camnet.identity.policy import Policy
from camnet.identity.ratelimit import FixedWindowLimiter
from camnet.identity.service import (
    IdentityService,
    IssuedTokens,
    OAuthError,
    invalid_client,
    invalid_grant,
)
from camnet.identity.throttle import CredentialThrottle, Throttled

NO_STORE: Final = {"Cache-Control": "no-store", "Pragma": "no-cache"}
MAX_FORM_BYTES: Final = 16 * 1024
BASIC_CHALLENGE: Final = {"WWW-Authenticate": 'Basic realm="camnet", charset="UTF-8"'}


@dataclass
class OAuthContext:
    """The token endpoints' budgets of requests; failed checks are counted by the one
    credential throttle, ``identity.passwords.throttle``."""

    identity: IdentityService
    policy: Policy
    per_address: FixedWindowLimiter
    per_client: FixedWindowLimiter


def oauth_error_response(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers.update(BASIC_CHALLENGE)
    body = {
        "error": error.code,
        "error_description": error.description,
        "statusCode": error.status,
        "message": error.description,
    }
    return Response(
        json.dumps(body), status_code=error.status, headers=headers, media_type="application/json"
    )


def _throttled_response(exc: Throttled) -> Response:
    error = ApiError(429, exc.message, headers={**NO_STORE, "Retry-After": str(exc.retry_after)})
    return error.response()


def tokens_response(tokens: IssuedTokens) -> Response:
    return Response(json.dumps(tokens.body()), headers=NO_STORE, media_type="application/json")


def _basic_client(request: Request) -> tuple[str, str] | None:
    authorization = request.headers.get("authorization", "")
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    reference, sep, secret = decoded.partition(":")
    return (reference, secret) if sep and reference else None


async def _read_limited(request: Request) -> bytes:
    size = 0
    chunks = []
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_FORM_BYTES:
            raise OAuthError(400, "invalid_request", f"requests are limited to {MAX_FORM_BYTES} B")
        chunks.append(chunk)
    return b"".join(chunks)


async def _form(request: Request) -> dict[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError(
            400, "invalid_request", "send the parameters as application/x-www-form-urlencoded"
        )
    body = await _read_limited(request)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body))
    except (UnicodeDecodeError, ValueError):
        raise OAuthError(400, "invalid_request", "the form body does not parse") from None
    form: dict[str, str] = {}
    for key, value in pairs:
        if key in form:
            raise OAuthError(400, "invalid_request", f"parameter {key!r} given more than once")
        form[key] = value
    return form


def is_json_media_type(content_type: str) -> bool:
    """``application/json`` or any ``application/*+json`` (RFC 6839 §3.1): Piksel's own
    SDK posts ``/pauth/token`` as ``application/vnd.piksel+json``."""
    media = content_type.split(";")[0].strip().lower()
    kind, _, subtype = media.partition("/")
    suffixed = subtype.endswith("+json") and len(subtype) > len("+json")
    return kind == "application" and (subtype == "json" or suffixed)


def _require(form: dict[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise OAuthError(400, "invalid_request", f"missing parameter {name!r}")
    return value


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _check_budget(
    context: OAuthContext,
    address: str,
    client_reference: str | None,
    *,
    count_address: bool = True,
) -> None:
    """The request budgets; ``count_address`` False when the address was counted already
    for this request (a client found in the body after the form was read)."""
    if count_address:
        budget = context.per_address.hit(("address", address))
        if not budget.allowed:
            raise Throttled(budget.retry_after, "too many token requests from this address")
    if client_reference is not None:
        budget = context.per_client.hit(("client", client_reference))
        if not budget.allowed:
            raise Throttled(budget.retry_after, "too many token requests for this client")
    context.identity.passwords.throttle.check(address)


def _posted_client(form: dict[str, str]) -> tuple[str, str] | None:
    """``client_secret_post`` (RFC 6749 §2.3.1): ``client_id`` and ``client_secret`` in
    the form body. Only with a secret: camnet has no public clients."""
    client_id, secret = form.get("client_id"), form.get("client_secret")
    if secret is None:
        return None
    if not client_id:
        raise OAuthError(400, "invalid_request", "client_secret without client_id")
    return client_id, secret


async def _authenticated_client(
    context: OAuthContext,
    request: Request,
    address: str,
    posted: tuple[str, str] | None = None,
) -> ClientRecord:
    presented = _basic_client(request) or posted
    if presented is None:
        context.identity.passwords.throttle.failed(address)
        raise invalid_client()
    client = await context.identity.passwords.client(address, *presented)
    if client is None:
        raise invalid_client()
    return client


def _handle(
    handler: Callable[[Request], Awaitable[Response]], throttle: CredentialThrottle
) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request)
        except OAuthError as error:
            return oauth_error_response(error)
        except Throttled as exc:  # a guesser's refusal waits first (the tarpit), once
            await throttle.hold(_address(request), exc)
            return _throttled_response(exc)

    return endpoint


def oauth_routes(context: OAuthContext) -> list[Route]:
    identity = context.identity

    async def issue(request: Request) -> Response:
        address = _address(request)
        presented = _basic_client(request)
        _check_budget(context, address, presented[0] if presented else None)
        form = await _form(request)
        posted = _posted_client(form)
        if posted is not None:
            if presented is not None:
                raise OAuthError(
                    400,
                    "invalid_request",
                    "authenticate the client one way: HTTP Basic or client_id and "
                    "client_secret in the body, not both",
                )
            _check_budget(context, address, posted[0], count_address=False)
        grant_type = _require(form, "grant_type")
        if grant_type not in ("client_credentials", "password", "refresh_token"):
            raise OAuthError(
                400, "unsupported_grant_type", f"grant_type {grant_type!r} is not supported"
            )
        client = await _authenticated_client(context, request, address, posted)
        if grant_type == "client_credentials":
            tokens = await identity.run_sync(identity.grant_client_credentials, client)
        elif grant_type == "password":
            username = _require(form, "username")
            password = _require(form, "password")
            user = await identity.passwords.user(address, username, password)
            if user is None:
                raise invalid_grant("the username or password is wrong")
            tokens = await identity.run_sync(identity.grant_password, client, user)
        else:
            refresh_token = _require(form, "refresh_token")
            try:
                tokens = await identity.run_sync(identity.grant_refresh, client, refresh_token)
            except OAuthError:
                identity.forget()  # a reuse may have revoked a family: drop cached sessions
                raise
        return tokens_response(tokens)

    async def verify(request: Request) -> Response:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise ApiError(
                401,
                "send the access token to verify as 'Authorization: Bearer <token>'",
                headers={"WWW-Authenticate": 'Bearer realm="camnet"'},
            )
        session = await identity.access_session(token.strip())
        if session is None:
            raise ApiError(
                401,
                "the access token is unknown, expired or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="camnet", error="invalid_token"'},
            )
        return Response(
            json.dumps(session.verification(token.strip())),
            headers=NO_STORE,
            media_type="application/json",
        )

    async def password_login(request: Request) -> Response:
        address = _address(request)
        _check_budget(context, address, None)
        if not is_json_media_type(request.headers.get("content-type", "")):
            raise ApiError(
                415,
                'send {"username": "domain\\\\user", "password": …} as application/json '
                "(or any application/*+json)",
            )
        try:
            body: Any = strict_json.loads(await _read_limited(request))
        except (ValueError, UnicodeDecodeError):
            raise ApiError(400, "the body is not JSON") from None
        problems = {
            key: "required, a non-empty string"
            for key in ("username", "password")
            if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key]
        }
        if problems:
            raise ApiError(400, "the body does not validate", validation=problems)
        user = await identity.passwords.user(address, body["username"], body["password"])
        if user is None:
            raise invalid_grant("the username or password is wrong")
        tokens = await identity.run_sync(identity.grant_password_without_client, user)
        return tokens_response(tokens)

    async def _caller(request: Request, address: str) -> tuple[ClientRecord | None, Principal]:
        """Revocation and introspection callers: a client by Basic ``owner.client_id``,
        or any principal the policy knows (bearer, API key, a user by Basic)."""
        presented = _basic_client(request)
        if presented is not None and "." in presented[0] and "\\" not in presented[0]:
            client = await identity.passwords.client(address, *presented)
            if client is not None:
                principal = await identity.run_sync(identity.client_principal, client, "")
                return client, principal
        found = await context.policy.principal(
            request.headers.get("authorization"),
            request.headers.get("x-api-key"),
            {},
            address=address,
        )
        if found is None:
            identity.passwords.throttle.failed(address)
            raise invalid_client()
        return None, found

    async def revoke(request: Request) -> Response:
        address = _address(request)
        _check_budget(context, address, None)
        form = await _form(request)
        token = _require(form, "token")
        client, principal = await _caller(request, address)
        await identity.revoke(token, client, principal)
        return Response(b"", headers=NO_STORE)

    async def introspect(request: Request) -> Response:
        address = _address(request)
        _check_budget(context, address, None)
        form = await _form(request)
        token = _require(form, "token")
        client, principal = await _caller(request, address)
        body = await identity.introspect(token, principal, client)
        return Response(json.dumps(body), headers=NO_STORE, media_type="application/json")

    def wrap_api(
        handler: Callable[[Request], Awaitable[Response]],
    ) -> Callable[[Request], Awaitable[Response]]:
        inner = _handle(handler, identity.passwords.throttle)

        async def endpoint(request: Request) -> Response:
            try:
                return await inner(request)
            except ApiError as error:
                return error.response()

        return endpoint

    issue_endpoint, verify_endpoint = wrap_api(issue), wrap_api(verify)

    async def token(request: Request) -> Response:
        if request.method == "POST":
            return await issue_endpoint(request)
        return await verify_endpoint(request)

    return [
        Route("/oauth/token", token, methods=["GET", "POST"], name="oauth_token"),
        Route("/pauth/token", wrap_api(password_login), methods=["POST"], name="pauth_token"),
        Route("/oauth/revoke", wrap_api(revoke), methods=["POST"], name="oauth_revoke"),
        Route("/oauth/introspect", wrap_api(introspect), methods=["POST"], name="oauth_introspect"),
    ]
