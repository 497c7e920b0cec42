"""Credentials and the token life cycle, without I/O.

A credential either signs every request by itself (:class:`Bearer`, :class:`ApiKey`,
:class:`Basic`) or is exchanged for an access token at the identity token endpoint
(:class:`ClientCredentials`, :class:`Password`). For the latter :class:`TokenKeeper`
decides when a token request is due — none yet, or the current one close to its expiry —
and builds it; the transports only send what it builds and hand the answer back, so the
sync and async clients renew tokens identically.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from camnet.client.requests import Call

DEFAULT_USER_DOMAIN: Final = "default"
REFRESH_MARGIN: Final = 60.0
"""Renew when less than this many seconds (or a tenth of the lifetime) are left."""


def _basic(user: str, secret: str) -> str:
    raw = f"{user}:{secret}".encode()
    return "Basic " + base64.b64encode(raw).decode("ascii")


@dataclass(frozen=True, slots=True)
class Bearer:
    """An OAuth access token obtained elsewhere (``camnet token issue``)."""

    token: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A long-lived ``cnk_…`` API key."""

    key: str

    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.key}


@dataclass(frozen=True, slots=True)
class Basic:
    """HTTP Basic, as the c2 dialect takes it (``API-User`` and its token, ``admin``…).

    Every request is checked against an argon2 hash on the server: fine for a script's
    few requests; prefer :class:`Password` (one token for many requests) otherwise.
    """

    user: str
    password: str

    def headers(self) -> dict[str, str]:
        return {"Authorization": _basic(self.user, self.password)}


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """OAuth2 client credentials grant for an app ``owner.client_id``."""

    client_id: str
    client_secret: str

    def token_call(self) -> Call[TokenAnswer]:
        return _token_call({"grant_type": "client_credentials"}, self.client_id, self.client_secret)


@dataclass(frozen=True, slots=True)
class Password:
    """A user's password, exchanged for tokens.

    With a client (``owner.client_id`` and secret) the OAuth password grant is used and,
    when the client may refresh, the access token is renewed with the refresh token;
    without one, ``/pauth/token`` signs the user in (no refresh token: the password is
    presented again when the token nears its end). A bare user name means a user of the
    default account (``admin`` is ``default\\admin``).
    """

    username: str
    password: str
    client_id: str | None = None
    client_secret: str | None = None

    @property
    def qualified(self) -> str:
        if "\\" in self.username:
            return self.username
        return f"{DEFAULT_USER_DOMAIN}\\{self.username}"

    def token_call(self) -> Call[TokenAnswer]:
        if self.client_id is None:
            return Call(
                "POST",
                "/pauth/token",
                json={"username": self.qualified, "password": self.password},
                parse=parse_token,
                auth=False,
            )
        form = {"grant_type": "password", "username": self.qualified, "password": self.password}
        return _token_call(form, self.client_id, self.client_secret or "")

    def refresh_call(self, refresh_token: str) -> Call[TokenAnswer] | None:
        if self.client_id is None:
            return None
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return _token_call(form, self.client_id, self.client_secret or "")


Credentials = Bearer | ApiKey | Basic | ClientCredentials | Password


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token endpoint answered, with the moment it expires on the client's clock."""

    access_token: str
    expires_at: float
    lifetime: float
    refresh_token: str | None = None
    token_type: str = "bearer"

    def due(self, now: float) -> bool:
        """Whether to renew now: within the margin before expiry."""
        margin = min(REFRESH_MARGIN, self.lifetime / 10)
        return now >= self.expires_at - margin


@dataclass(frozen=True, slots=True)
class TokenAnswer:
    access_token: str
    expires_in: float
    refresh_token: str | None
    token_type: str


def parse_token(data: Any) -> TokenAnswer:
    return TokenAnswer(
        access_token=str(data["access_token"]),
        expires_in=float(data.get("expires_in", 3600)),
        refresh_token=data.get("refresh_token"),
        token_type=str(data.get("token_type", "bearer")),
    )


def _token_call(form: dict[str, str], client_id: str, secret: str) -> Call[TokenAnswer]:
    return Call(
        "POST",
        "/oauth/token",
        data=form,
        headers={"Authorization": _basic(client_id, secret)},
        parse=parse_token,
        auth=False,
    )


class TokenKeeper:
    """Holds the credentials and the current tokens; says which token request is due.

    ``clock`` is the client's notion of now (``time.monotonic`` unless injected).
    """

    def __init__(self, credentials: Credentials | None, clock: Callable[[], float]) -> None:
        self.credentials = credentials
        self.clock = clock
        self.tokens: TokenSet | None = None

    @property
    def exchanges(self) -> bool:
        """Whether these credentials are exchanged for tokens at all."""
        return isinstance(self.credentials, ClientCredentials | Password)

    def pending(self) -> Call[TokenAnswer] | None:
        """The token request to make before the next call, or None."""
        credentials = self.credentials
        if not isinstance(credentials, ClientCredentials | Password):
            return None
        if self.tokens is not None and not self.tokens.due(self.clock()):
            return None
        if (
            self.tokens is not None
            and self.tokens.refresh_token
            and isinstance(credentials, Password)
        ):
            return credentials.refresh_call(self.tokens.refresh_token)
        return credentials.token_call()

    def fresh_call(self) -> Call[TokenAnswer] | None:
        """A request for new tokens from the credentials themselves (after a refusal)."""
        credentials = self.credentials
        if isinstance(credentials, ClientCredentials | Password):
            return credentials.token_call()
        return None

    def accept(self, answer: TokenAnswer, sent_at: float) -> TokenSet:
        self.tokens = TokenSet(
            access_token=answer.access_token,
            expires_at=sent_at + answer.expires_in,
            lifetime=answer.expires_in,
            refresh_token=answer.refresh_token,
            token_type=answer.token_type,
        )
        return self.tokens

    def forget(self) -> None:
        """Drop the tokens (a 401 said they no longer count)."""
        self.tokens = None

    def headers(self) -> dict[str, str]:
        credentials = self.credentials
        if isinstance(credentials, Bearer | ApiKey | Basic):
            return credentials.headers()
        if self.tokens is None:
            return {}
        return {"Authorization": f"Bearer {self.tokens.access_token}"}


def token_credentials(token: str) -> Credentials:
    """What a bare ``--token`` most likely is: an API key (``cnk_``), an OAuth access
    token (64 hex digits) or else the c2 API-User token (sent as Basic ``API-User``)."""
    if token.startswith("cnk_"):
        return ApiKey(token)
    if len(token) == 64 and all(c in "0123456789abcdef" for c in token):
        return Bearer(token)
    return Basic("API-User", token)
