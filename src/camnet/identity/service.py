"""The identity service: OAuth grants, token verification, revocation and introspection,
API keys, and the principals every face's requests run as.

All database work runs on the database thread; answers to repeated questions (is this
bearer token live? whose API key is this?) are remembered in memory and dropped as soon
as anything that could change them changes, here or in another process (a cheap poll of
the users' and tokens' change counters, the same way c2 credentials are handled).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, ParamSpec, TypeVar

from sqlalchemy import Engine, select

from camnet.clock import Clock
from camnet.identity.accounts import AccountRepository
from camnet.identity.actions import Action, ActionError
from camnet.identity.apikeys import ApiKeyRepository
from camnet.identity.changes import ChangeListener, count_changes
from camnet.identity.clients import ClientRecord, ClientRepository
from camnet.identity.hashing import Hasher
from camnet.identity.holders import holds
from camnet.identity.live import CredentialsChanged
from camnet.identity.passwords import PasswordCheck
from camnet.identity.permissions import DEFAULT_ACCOUNT, PermissionPolicy, Principal
from camnet.identity.throttle import CredentialThrottle
from camnet.identity.tokens import (
    SubjectKind,
    TokenRecord,
    TokenRepository,
    digest,
    new_family,
)
from camnet.identity.users import UserRecord, UserRepository
from camnet.store import tables
from camnet.store.database import Database

log = logging.getLogger(__name__)

_MAX_CACHED: Final = 8192
P = ParamSpec("P")
T = TypeVar("T")


class OAuthError(Exception):
    """An RFC 6749 §5.2 error: ``code`` is the ``error`` member."""

    def __init__(self, status: int, code: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.description = description


def invalid_client() -> OAuthError:
    return OAuthError(401, "invalid_client", "client authentication failed")


def invalid_grant(description: str = "the credentials or grant are invalid") -> OAuthError:
    return OAuthError(400, "invalid_grant", description)


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    expires_in: int
    refresh_token: str | None = None

    def body(self) -> dict[str, object]:
        body: dict[str, object] = {
            "token_type": "bearer",
            "access_token": self.access_token,
            "expires_in": self.expires_in,
        }
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
        return body


@dataclass(frozen=True, slots=True)
class AccessSession:
    """A live access token and everything its verification shows."""

    principal: Principal
    token: TokenRecord
    client: ClientRecord | None
    user: UserRecord | None

    def verification(self, access_token: str) -> dict[str, object]:
        """The seed's ``GET /oauth/token`` body."""
        expires = datetime.fromtimestamp(self.token.expires_at, UTC)
        if self.user is not None:
            directory_ref = f"{self.user.account}:user"
            user_ref = f"{self.user.account}:{self.user.name}"
            user_type = "user"
        else:
            assert self.client is not None
            directory_ref = f"{self.client.owner}:client"
            user_ref = f"{self.client.owner}:{self.client.client_id}"
            user_type = "service"
        return {
            "tokenType": "bearer",
            "accessToken": access_token,
            "expires": expires.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "dynamic": False,
            "clientId": self.client.client_id if self.client else None,
            "directoryRef": directory_ref,
            "userRef": user_ref,
            "userType": user_type,
            "permissions": self.principal.permissions.as_json(),
        }


class IdentityService:
    def __init__(
        self,
        database: Database,
        policy: PermissionPolicy,
        clock: Clock,
        *,
        access_lifetime: float,
        refresh_lifetime: float,
        poll_interval: float = 1.0,
        changes: ChangeListener | None = None,
        throttle: CredentialThrottle | None = None,
        hasher: Hasher | None = None,
    ) -> None:
        self._database = database
        self._changes = changes or ChangeListener()  # woken by identity.changes' notices
        throttle = throttle or CredentialThrottle(
            clock, failures_before_backoff=10, failures_per_minute=30
        )
        self.passwords = PasswordCheck(database, throttle, hasher or Hasher())
        self.changed = CredentialsChanged()
        engine = database.engine
        self.accounts = AccountRepository(engine)
        self.users = UserRepository(engine)
        self.clients = ClientRepository(engine)
        self.tokens = TokenRepository(engine)
        self.api_keys = ApiKeyRepository(engine)
        self.policy = policy
        self.clock = clock
        self.access_lifetime = access_lifetime
        self.refresh_lifetime = refresh_lifetime
        self._poll_interval = poll_interval
        self._sessions: dict[str, AccessSession] = {}
        self._keys: dict[str, Principal] = {}
        self._version = ""
        self._watcher: asyncio.Task[None] | None = None

    async def run_sync(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """Run identity work on the database thread."""
        return await self._database.run(fn, *args, **kwargs)

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._version = await self._database.run(self._change_version)
        self._watcher = asyncio.create_task(self._watch(), name="camnet-identity-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    def forget(self) -> None:
        """Something that could end a credential changed (here, in another process, or
        as told by a notifier): drop what is remembered and fire ``changed``, so every
        cache and every open long-lived session takes the change (``identity/live.py``)."""
        self._sessions.clear()
        self._keys.clear()
        self.changed.fire()

    def _change_version(self) -> str:
        return f"{self.users.secrets_version()}|{self.tokens.revocations_version()}|" + str(
            count_changes(self._database.engine)
        )

    async def _watch(self) -> None:
        while True:
            await self._changes.wait(self._poll_interval)
            try:
                version = await self._database.run(self._change_version)
            except Exception:
                log.exception("could not read the identity change counters")
                continue
            if version != self._version:
                self._version = version
                self.forget()

    # -- principals ----------------------------------------------------------------------

    def _extra_grants(self, kind: str, subject_id: int) -> list[tuple[str, Action]]:
        p = tables.permissions
        query = select(p.c.tenant, p.c.action).where(
            p.c.subject_kind == kind, p.c.subject_id == subject_id
        )
        extra = []
        with self._database.engine.connect() as connection:
            for tenant, text in connection.execute(query):
                try:
                    extra.append((tenant, Action.parse(text)))
                except ActionError:
                    log.warning("ignoring a stored permission that does not parse: %r", text)
        return extra

    def user_principal(
        self, user: UserRecord, session: str, client: ClientRecord | None
    ) -> Principal:
        permissions = self.policy.permissions_for(
            user.role, user.account, self._extra_grants("user", user.id)
        )
        shown = user.name if user.account == DEFAULT_ACCOUNT else user.qualified
        return Principal(
            user=shown,
            role=user.role,
            grant=self.policy.grant_of(permissions),
            account=user.account,
            permissions=permissions,
            kind="user",
            session=session,
            client_id=client.reference if client else None,
            rate_limit=client.rate_limit if client else None,
        )

    def client_principal(self, client: ClientRecord, session: str) -> Principal:
        permissions = self.policy.permissions_for(
            client.role, client.owner, self._extra_grants("client", client.id)
        )
        return Principal(
            user=client.reference,
            role=client.role,
            grant=self.policy.grant_of(permissions),
            account=client.owner,
            permissions=permissions,
            kind="client",
            session=session,
            client_id=client.reference,
            rate_limit=client.rate_limit,
        )

    # -- client authentication and grants (database thread) -----------------------------

    def _issue(
        self,
        subject_kind: SubjectKind,
        subject_id: int,
        client: ClientRecord | None,
        *,
        with_refresh: bool,
        family: str | None = None,
    ) -> IssuedTokens:
        now = self.clock.now()
        family = family or new_family()
        client_key = client.id if client else None
        access = self.tokens.issue(
            "access", family, subject_kind, subject_id, client_key, now, self.access_lifetime
        )
        refresh = None
        if with_refresh:
            refresh = self.tokens.issue(
                "refresh", family, subject_kind, subject_id, client_key, now, self.refresh_lifetime
            )
        return IssuedTokens(access, int(self.access_lifetime), refresh)

    @property
    def engine(self) -> Engine:
        return self._database.engine

    def issue_for_client(self, client: ClientRecord) -> IssuedTokens:
        """An operator's token for a client (``camnet token issue``): no secret needed."""
        return self._issue("client", client.id, client, with_refresh=False)

    def issue_for_user(self, user: UserRecord) -> IssuedTokens:
        return self._issue("user", user.id, None, with_refresh=False)

    def grant_client_credentials(self, client: ClientRecord) -> IssuedTokens:
        self._require_grant(client, "client_credentials")
        # RFC 6749 §4.4.3: no refresh token for the client credentials grant.
        return self._issue("client", client.id, client, with_refresh=False)

    def grant_password(self, client: ClientRecord, user: UserRecord) -> IssuedTokens:
        """The password grant for a user whose password ``passwords.user`` verified."""
        self._require_grant(client, "password")
        return self._issue("user", user.id, client, with_refresh="refresh_token" in client.grants)

    def grant_password_without_client(self, user: UserRecord) -> IssuedTokens:
        """``/pauth/token`` and the dashboard: a verified user, no app in between."""
        return self._issue("user", user.id, None, with_refresh=False)

    def grant_refresh(self, client: ClientRecord, refresh_token: str) -> IssuedTokens:
        self._require_grant(client, "refresh_token")
        now = self.clock.now()
        record = self.tokens.find(refresh_token)
        if record is None or record.kind != "refresh" or record.client != client.id:
            raise invalid_grant("the refresh token is not valid for this client")
        if record.revoked_at is not None or now >= record.expires_at:
            raise invalid_grant("the refresh token has expired or was revoked")
        if not self.tokens.claim(record.id, now):
            revoked = self.tokens.revoke_family(record.family, now)
            log.warning(
                "refresh token reused for client %s: revoked %d tokens of its family",
                client.reference,
                revoked,
            )
            raise invalid_grant("the refresh token was used before; its session is revoked")
        if not self._subject_enabled(record):
            raise invalid_grant("the account behind this refresh token is disabled")
        return self._issue(
            record.subject_kind, record.subject_id, client, with_refresh=True, family=record.family
        )

    def _require_grant(self, client: ClientRecord, grant: str) -> None:
        if grant not in client.grants:
            raise OAuthError(
                400, "unauthorized_client", f"this client may not use the {grant} grant"
            )

    def _subject_enabled(self, record: TokenRecord) -> bool:
        if record.subject_kind == "user":
            user = self.users.get_by_id(record.subject_id)
            return user is not None and user.enabled
        client = self.clients.get_by_id(record.subject_id)
        return client is not None and client.enabled

    # -- verification ---------------------------------------------------------------------

    def _resolve(self, token: str) -> AccessSession | None:
        record = self.tokens.find(token)
        if record is None or record.kind != "access":
            return None
        client = self.clients.get_by_id(record.client) if record.client is not None else None
        session = "t:" + record.family
        if record.subject_kind == "user":
            user = self.users.get_by_id(record.subject_id)
            if user is None or not user.enabled:
                return None
            return AccessSession(self.user_principal(user, session, client), record, client, user)
        subject = self.clients.get_by_id(record.subject_id)
        if subject is None or not subject.enabled:
            return None
        return AccessSession(self.client_principal(subject, session), record, subject, None)

    async def access_session(self, token: str) -> AccessSession | None:
        """The live session of a bearer token, or None (unknown, expired, revoked)."""
        key = digest(token)
        session = self._sessions.get(key)
        if session is None:
            session = await self._database.run(self._resolve, token)
            if session is None:
                return None
            if len(self._sessions) >= _MAX_CACHED:
                self._sessions.clear()
            self._sessions[key] = session
        if not session.token.live(self.clock.now()):
            return None
        return session

    def _api_key_principal(self, key: str) -> Principal | None:
        record = self.api_keys.find(key)
        if record is None:
            return None
        permissions = self.policy.permissions_for(
            record.role, record.account, self._extra_grants("apikey", record.id)
        )
        return Principal(
            user=f"{record.account}:{record.name}",
            role=record.role,
            grant=self.policy.grant_of(permissions),
            account=record.account,
            permissions=permissions,
            kind="apikey",
            session=f"k:{record.id}",
        )

    async def api_key(self, key: str) -> Principal | None:
        cache_key = digest(key)
        principal = self._keys.get(cache_key)
        if principal is None:
            principal = await self._database.run(self._api_key_principal, key)
            if principal is None:
                return None
            if len(self._keys) >= _MAX_CACHED:
                self._keys.clear()
            self._keys[cache_key] = principal
        return principal

    # -- revocation and introspection (RFC 7009, RFC 7662) --------------------------------

    def _token_account(self, record: TokenRecord) -> str | None:
        if record.subject_kind == "user":
            user = self.users.get_by_id(record.subject_id)
            return user.account if user else None
        client = self.clients.get_by_id(record.subject_id)
        return client.owner if client else None

    def revoke_sync(
        self, token: str, client: ClientRecord | None, caller: Principal | None
    ) -> bool:
        """Revoke when the caller may: the client it was issued to, its own holder, or a
        principal with ``identity:tokens:write`` in its account. Unknown: no error."""
        record = self.tokens.find(token)
        if record is None:
            return False
        allowed = client is not None and record.client == client.id
        if not allowed and caller is not None:
            account = self._token_account(record)
            allowed = account is not None and caller.may(account, "identity:tokens:write")
            allowed = allowed or holds(caller, record, self.users, self.clients)
        if not allowed:
            return False
        now = self.clock.now()
        if record.kind == "refresh":
            self.tokens.revoke_family(record.family, now)
        else:
            self.tokens.revoke(record.id, now)
        return True

    def revoke_presented(self, token: str) -> bool:
        """Sign-out: the holder of an access token ends it (holding it proves it is theirs)."""
        record = self.tokens.find(token)
        if record is None or record.kind != "access" or record.revoked_at is not None:
            return False
        self.tokens.revoke(record.id, self.clock.now())
        return True

    async def revoke(
        self, token: str, client: ClientRecord | None, caller: Principal | None
    ) -> None:
        if await self._database.run(self.revoke_sync, token, client, caller):
            self.forget()

    def introspect_sync(
        self, token: str, caller: Principal, client: ClientRecord | None = None
    ) -> dict[str, object]:
        """RFC 7662: ``active`` and, for a live token the caller may see (issued to the
        calling client, or in an account where the caller may read tokens), who it is
        for. Everything else, foreign tokens included, is inactive."""
        inactive: dict[str, object] = {"active": False}
        record = self.tokens.find(token)
        if record is None or not record.live(self.clock.now()):
            return inactive
        if record.kind == "refresh" and record.used_at is not None:
            return inactive
        account = self._token_account(record)
        own = client is not None and record.client == client.id
        if account is None or not (own or caller.may(account, "identity:tokens:read")):
            return inactive
        if not self._subject_enabled(record):
            return inactive
        client = self.clients.get_by_id(record.client) if record.client is not None else None
        if record.subject_kind == "user":
            user = self.users.get_by_id(record.subject_id)
            assert user is not None
            principal = self.user_principal(user, "", client)
            username: str | None = user.qualified
        else:
            subject = self.clients.get_by_id(record.subject_id)
            assert subject is not None
            principal = self.client_principal(subject, "")
            username = None
        body: dict[str, object] = {
            "active": True,
            "token_type": "bearer" if record.kind == "access" else "refresh_token",
            "client_id": client.client_id if client else None,
            "username": username,
            "sub": principal.user,
            "account": account,
            "iat": int(record.issued_at),
            "exp": int(record.expires_at),
            "permissions": principal.permissions.as_json(),
        }
        return body

    async def introspect(
        self, token: str, caller: Principal, client: ClientRecord | None = None
    ) -> dict[str, object]:
        return await self._database.run(self.introspect_sync, token, caller, client)
