"""The one authentication backend: whatever a request presents → a Principal, or None.

Every face of camnet goes through ``Policy.principal``; none checks a secret itself.
Accepted, in order:

- ``Authorization: Bearer <access token>`` (OAuth, ``/oauth/token``);
- ``Authorization: ApiKey <key>`` or ``X-API-Key: <key>`` (long-lived API keys);
- the c2 ways: HTTP Basic ``user:password`` (``domain\\user`` for other accounts), or
  ``token``/``password`` (and ``user``) in the query. A query ``token`` that is an access
  token or an API key is taken as one (browsers cannot set headers on an ``<img>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Final

from camnet.identity.apikeys import KEY_PREFIX
from camnet.identity.authenticator import Authenticator, c2_credentials
from camnet.identity.browser import CookieSession
from camnet.identity.permissions import Principal
from camnet.identity.service import IdentityService

_ACCESS_TOKEN: Final = re.compile(r"^[0-9a-f]{64}$")
_C2_QUERY: Final = frozenset({"token", "password", "user"})


class Policy:
    def __init__(self, identity: IdentityService, authenticator: Authenticator) -> None:
        self.identity = identity
        self.authenticator = authenticator

    async def principal(
        self,
        authorization: str | None,
        api_key: str | None,
        query: Mapping[str, str],
        cookie: CookieSession | None = None,
        address: str | None = None,
        *,
        throttled: bool = True,
    ) -> Principal | None:
        """Raises ``Throttled`` when a password would be checked for an ``address`` or a
        user that must wait (see ``identity/throttle.py``)."""
        if authorization:
            scheme, _, value = authorization.strip().partition(" ")
            scheme = scheme.lower()
            value = value.strip()
            if scheme == "bearer":
                session = await self.identity.access_session(value)
                return session.principal if session else None
            if scheme == "apikey":
                return await self.identity.api_key(value)
        if api_key:
            return await self.identity.api_key(api_key.strip())
        if cookie is not None and not authorization and not _C2_QUERY.intersection(query):
            if not cookie.trusted:
                return None
            session = await self.identity.access_session(cookie.token)
            return replace(session.principal, browser=True) if session else None
        token = query.get("token")
        if token and "user" not in query and not (authorization or "").lower().startswith("basic"):
            if token.startswith(KEY_PREFIX):
                return await self.identity.api_key(token)
            if _ACCESS_TOKEN.match(token):
                session = await self.identity.access_session(token)
                if session is not None:
                    return session.principal
        credentials = c2_credentials(query, authorization)
        return await self.authenticator.authenticate(credentials, address, throttled=throttled)
