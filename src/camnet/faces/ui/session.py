"""The dashboard's sign-in: ``/ui/session``.

    POST    /ui/session   {"username", "password"} → sets the session cookie (open)
    GET     /ui/session   who is signed in, and the session's CSRF value
    DELETE  /ui/session   signs out: the token is revoked and the cookie cleared (a
                          Bearer access token is revoked the same way; other
                          credentials are no session: 400)

The cookie holds an opaque access token issued as ``/pauth/token`` issues one (a user
signing in with no app in between), so the policy point checks it like any bearer
token (``identity/browser.py`` adds the CSRF and Origin checks). It is ``HttpOnly``
(page scripts never see it), ``SameSite=Strict`` (no other site's page, link or form
makes the browser send it: the dashboard is entered by typing its address, so the
stricter setting costs nothing), ``Path=/`` (every face the dashboard calls), and
``Secure`` when the request came over HTTPS. Sign-in attempts share the token
endpoints' throttles (per address, per username back-off).
"""

from __future__ import annotations

import json
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from camnet import strict_json
from camnet.faces.identity.errors import ApiError
from camnet.faces.identity.oauth import OAuthContext
from camnet.faces.identity.resources import caller
from camnet.faces.ui.abilities import abilities
from camnet.faces.ui.headers import NO_STORE, with_security
from camnet.identity.browser import COOKIE_NAME, cookie_token, csrf_value
from camnet.identity.permissions import Principal
from camnet.identity.throttle import Throttled

MAX_BODY: Final = 16 * 1024


def _json(body: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(body, ensure_ascii=False),
        status_code=status,
        headers=with_security(NO_STORE),
        media_type="application/json",
    )


def _error(error: ApiError) -> Response:
    error.headers = with_security({**NO_STORE, **error.headers})
    return error.response()


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _throttle(context: OAuthContext, address: str) -> None:
    budget = context.per_address.hit(("address", address))
    if not budget.allowed:
        raise Throttled(budget.retry_after, "too many sign-in attempts")


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def _retry(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(seconds)}


async def _credentials(request: Request) -> tuple[str, str]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json":
        raise ApiError(415, 'send {"username": …, "password": …} as JSON')
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            raise ApiError(413, f"bodies are limited to {MAX_BODY} bytes")
    try:
        body: Any = strict_json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "the body is not JSON") from None
    problems = {
        key: "required, a non-empty string"
        for key in ("username", "password")
        if not isinstance(body, dict) or not isinstance(body.get(key), str) or not body[key]
    }
    if problems:
        raise ApiError(400, "the body does not validate", validation=problems)
    return body["username"], body["password"]


def _who(principal: Principal, token: str) -> dict[str, Any]:
    account = principal.account
    return {
        "user": principal.user,
        "account": account,
        "role": str(principal.role.value if hasattr(principal.role, "value") else principal.role),
        "csrf": csrf_value(token),
        "administrator": principal.may(account, "identity:users:write"),
        "permissions": principal.permissions.as_json(),
        "may": abilities(principal),
    }


def _cookie(response: Response, request: Request, token: str, max_age: int) -> None:
    response.set_cookie(
        COOKIE_NAME,
        token,
        max_age=max_age,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def session_routes(context: OAuthContext) -> list[Route]:
    identity = context.identity

    async def sign_in(request: Request) -> Response:
        try:
            username, password = await _credentials(request)
            address = _address(request)
            try:
                _throttle(context, address)
                user = await identity.passwords.user(address, username, password)
            except Throttled as refused:  # a guesser's refusal waits first (the tarpit)
                await identity.passwords.throttle.hold(address, refused)
                raise ApiError(429, refused.message, headers=_retry(refused.retry_after)) from None
            if user is None:
                raise ApiError(401, "the username or password is wrong")
            tokens = await identity.run_sync(identity.grant_password_without_client, user)
            session = await identity.access_session(tokens.access_token)
            if session is None:
                raise ApiError(401, "the new session could not be verified")
        except ApiError as error:
            return _error(error)
        response = _json(_who(session.principal, tokens.access_token))
        _cookie(response, request, tokens.access_token, tokens.expires_in)
        return response

    async def current(request: Request) -> Response:
        token = cookie_token(request.headers.get("cookie"))
        if token is None:
            return _error(ApiError(400, "this session is not a dashboard session (no cookie)"))
        return _json(_who(caller(request), token))

    async def sign_out(request: Request) -> Response:
        token = cookie_token(request.headers.get("cookie")) or _bearer(request)
        if token is None:
            return _error(
                ApiError(
                    400,
                    "no session to end: these credentials are not a session; sign out "
                    "with the session's cookie or its access token as a Bearer",
                )
            )
        await identity.run_sync(identity.revoke_presented, token)
        identity.forget()
        response = Response(status_code=204, headers=with_security(NO_STORE))
        response.delete_cookie(COOKIE_NAME, path="/", httponly=True, samesite="strict")
        return response

    async def session(request: Request) -> Response:
        if request.method == "POST":
            return await sign_in(request)
        if request.method == "DELETE":
            return await sign_out(request)
        return await current(request)

    return [
        Route("/ui/session", sign_in, methods=["POST"], name="ui_sign_in"),
        Route("/ui/session", session, methods=["GET", "DELETE"], name="ui_session"),
    ]
