"""Fleet sign-in: email and password → an access and a refresh token, and refresh-token
rotation, on the identity service's own token store (no OAuth client in between).

Runs on the database thread. A refresh token is used once: using it again revokes its
whole family (the session), as ``/oauth/token``'s refresh grant does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from camnet.identity.service import IdentityService
from camnet.identity.tokens import new_family
from camnet.identity.users import UserRecord

log = logging.getLogger(__name__)


class SignInFailed(Exception):
    """Wrong email or password, or an unusable refresh token; the text says which."""


@dataclass(frozen=True, slots=True)
class Session:
    user: UserRecord
    access_token: str
    refresh_token: str
    expires_in: int

    def body(self) -> dict[str, object]:
        """The seed's login answer."""
        return {
            "data": {
                "user": {
                    "type": "user",
                    "name": self.user.name,
                    "email": self.user.email or "",
                    "role": [self.user.role.value],
                },
                "token_type": "bearer",
                "expires_in": self.expires_in,
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
            }
        }


def _issue(identity: IdentityService, user: UserRecord, family: str) -> Session:
    now = identity.clock.now()
    tokens = identity.tokens
    access = tokens.issue("access", family, "user", user.id, None, now, identity.access_lifetime)
    refresh = tokens.issue("refresh", family, "user", user.id, None, now, identity.refresh_lifetime)
    return Session(user, access, refresh, int(identity.access_lifetime))


def login(identity: IdentityService, user: UserRecord) -> Session:
    """A new session for a user whose password ``identity.passwords`` verified."""
    return _issue(identity, user, new_family())


def refresh(identity: IdentityService, refresh_token: str) -> Session:
    now = identity.clock.now()
    tokens = identity.tokens
    record = tokens.find(refresh_token)
    if record is None or record.kind != "refresh" or record.client is not None:
        raise SignInFailed("the refresh token is not valid")
    if record.subject_kind != "user":
        raise SignInFailed("the refresh token is not valid")
    if record.revoked_at is not None or now >= record.expires_at:
        raise SignInFailed("the refresh token has expired or was revoked")
    if not tokens.claim(record.id, now):
        revoked = tokens.revoke_family(record.family, now)
        log.warning("fleet refresh token reused: revoked %d tokens of its session", revoked)
        raise SignInFailed("the refresh token was used before; its session is revoked")
    user = identity.users.get_by_id(record.subject_id)
    if user is None or not user.enabled:
        raise SignInFailed("the user of this refresh token is disabled")
    return _issue(identity, user, record.family)
