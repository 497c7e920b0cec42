"""The authentication backend: credentials in, a Principal with permissions out.

Every face hands what the caller presented to ``Authenticator``; no face checks a secret
itself. argon2id makes each verification deliberately expensive (tens of milliseconds),
so a successful verification is remembered under a keyed digest of the credentials for
as long as the stored secret is unchanged. Changes made by other processes (``camnet token
rotate`` against a running server) are noticed through a cheap poll of the users' secret
change times, and drop the cache.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import hashlib
import hmac
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from camnet.clock import SystemClock
from camnet.identity.changes import ChangeListener
from camnet.identity.hashing import Hasher
from camnet.identity.passwords import PasswordCheck
from camnet.identity.permissions import PermissionPolicy, Principal
from camnet.identity.throttle import CredentialThrottle, user_key
from camnet.identity.users import API_USER, UserRecord, UserRepository
from camnet.store.database import Database

if TYPE_CHECKING:
    from camnet.identity.service import IdentityService

log = logging.getLogger(__name__)

_MAX_CACHED: Final = 4096


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    secret: str


def c2_credentials(query: Mapping[str, str], authorization: str | None) -> Credentials | None:
    """The c2 ways to present credentials: HTTP Basic, or ``token``/``password`` (+``user``)
    in the query. Basic wins when both are present."""
    if authorization:
        scheme, _, encoded = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                return None
            user, sep, password = decoded.partition(":")
            return Credentials(user, password) if sep and user else None
    token = query.get("token") or query.get("password")
    if not token:
        return None
    return Credentials(query.get("user") or API_USER, token)


class Authenticator:
    def __init__(
        self,
        database: Database,
        policy: PermissionPolicy,
        poll_interval: float = 1.0,
        identity: IdentityService | None = None,
        changes: ChangeListener | None = None,
    ) -> None:
        self._identity = identity
        self._changes = changes or ChangeListener()  # woken by identity.changes' notices
        self._database = database
        self._users = UserRepository(database.engine)
        self._policy = policy
        self._poll_interval = poll_interval
        self._cache: dict[bytes, Principal] = {}
        self._verifying: dict[bytes, asyncio.Future[Principal | None]] = {}
        self._cache_key = secrets.token_bytes(32)
        self._watcher: asyncio.Task[None] | None = None
        self._secrets_version = ""
        if identity is not None:
            identity.changed.subscribe(self.forget)
        self._passwords = (
            identity.passwords
            if identity is not None
            else PasswordCheck(
                database,
                CredentialThrottle(
                    SystemClock(), failures_before_backoff=10, failures_per_minute=30
                ),
                Hasher(),
            )
        )

    async def start(self) -> None:
        self._secrets_version = await self._database.run(self._users.secrets_version)
        self._watcher = asyncio.create_task(self._watch(), name="camnet-credential-watch")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
            self._watcher = None

    def forget(self) -> None:
        """Drop every remembered verification (a secret changed)."""
        self._cache.clear()

    def _digest(self, credentials: Credentials) -> bytes:
        message = credentials.user.encode() + b"\x00" + credentials.secret.encode()
        return hmac.new(self._cache_key, message, hashlib.sha256).digest()

    def cached(self, credentials: Credentials) -> Principal | None:
        """The principal for credentials verified before, without touching the database."""
        return self._cache.get(self._digest(credentials))

    async def authenticate(
        self, credentials: Credentials | None, address: str | None = None, *, throttled: bool = True
    ) -> Principal | None:
        """The principal of c2 credentials, or None. A secret verified before is
        answered from memory; anything else spends from the credential throttle (it
        raises ``Throttled`` when ``address`` or the user must wait). ``throttled=False``
        is for checking an open session's credentials again: no budget is spent."""
        if credentials is None:
            return None
        digest = self._digest(credentials)
        principal = self._cache.get(digest)
        if principal is not None:
            return principal
        if throttled:  # a refused guess costs no task, no database read, no hash (and a
            # guesser's refusal is held by the tarpit: identity/throttle.py)
            await self._passwords.throttle.admit(address, user_key(credentials.user))
        # Single flight: many connections presenting the same new credentials at once
        # share one argon2 verification instead of queueing one each.
        pending = self._verifying.get(digest)
        if pending is None:
            pending = asyncio.ensure_future(self._verify(credentials, address, throttled))
            self._verifying[digest] = pending
            pending.add_done_callback(lambda _f: self._verifying.pop(digest, None))
        principal = await asyncio.shield(pending)
        if principal is not None:
            if len(self._cache) >= _MAX_CACHED:
                self._cache.clear()
            self._cache[digest] = principal
        return principal

    async def _verify(
        self, credentials: Credentials, address: str | None, throttled: bool = True
    ) -> Principal | None:
        record = await self._passwords.user(
            address, credentials.user, credentials.secret, throttled=throttled
        )
        if record is None:
            return None
        session = "c:" + self._digest(credentials).hex()[:32]
        return await self._database.run(self._principal, record, session)

    def _principal(self, record: UserRecord, session: str) -> Principal:
        if self._identity is not None:
            return self._identity.user_principal(record, session, None)
        permissions = self._policy.permissions_for(record.role, record.account)
        return Principal(
            record.name,
            record.role,
            self._policy.grant_of(permissions),
            account=record.account,
            permissions=permissions,
            session=session,
        )

    async def _watch(self) -> None:
        while True:
            await self._changes.wait(self._poll_interval)
            try:
                version = await self._database.run(self._users.secrets_version)
            except Exception:
                log.exception("could not read the users' secret versions")
                continue
            if version != self._secrets_version:
                self._secrets_version = version
                if self._identity is not None:
                    self._identity.forget()  # fires identity.changed, which forgets here too
                else:
                    self.forget()
