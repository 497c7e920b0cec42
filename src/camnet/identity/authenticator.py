"""The authentication backend: credentials in, a Principal with permissions out.

Every face hands what the caller presented to ``Authenticator``; no face checks a secret
itself. argon2id makes each verification deliberately expensive (tens of milliseconds;
hundreds on a busy small machine, where the hashing threads run at a lower priority), so
a successful verification is remembered under a keyed digest of the credentials for as
long as the stored secret is unchanged.

"As long as the stored secret is unchanged" is checked, not assumed. Any identity change
anywhere in the network (a token revoked by a sign-out, an API key made, a user edited;
``camnet token rotate`` from another process) makes every remembered verification
*stale*, not forgotten: the next request with those credentials reads the user's row
again (one cheap indexed read on the database thread) and keeps the verification when
the row still holds the same secret hash and the user is enabled, rebuilding the
principal from the row (its role and grants may have changed). Only a changed secret
costs a new argon2 verification. Dropping everything instead put argon2 back on the
c2 write path of every node after every such change: the first acknowledged write
afterwards took 200–350 ms on a 2-core machine (docs/cluster.md).

For the same reason a node verifies its configured ``api_token`` in the background as
it starts (``warm``), so the first c2 write presenting it is not the one to pay argon2.
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
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from camnet.clock import SystemClock
from camnet.identity.changes import ChangeListener
from camnet.identity.hashing import Hasher
from camnet.identity.passwords import PasswordCheck
from camnet.identity.permissions import PermissionPolicy, Principal
from camnet.identity.throttle import CredentialThrottle, user_key
from camnet.identity.users import API_USER, UserRecord, UserRepository, split_qualified
from camnet.store.database import Database

if TYPE_CHECKING:
    from camnet.identity.service import IdentityService

log = logging.getLogger(__name__)

_MAX_CACHED: Final = 4096


@dataclass(frozen=True, slots=True)
class Credentials:
    user: str
    secret: str


@dataclass(frozen=True, slots=True)
class _Remembered:
    """A verification: the principal it gave, the secret hash it was verified against,
    and the change epoch it was made (or last confirmed) in."""

    principal: Principal
    secret_hash: str
    epoch: int


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
        self._cache: dict[bytes, _Remembered] = {}
        self._epoch = 0
        self._verifying: dict[bytes, asyncio.Future[_Remembered | None]] = {}
        self._cache_key = secrets.token_bytes(32)
        self._watcher: asyncio.Task[None] | None = None
        self._warming: asyncio.Task[Principal | None] | None = None
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

    def warm(self, credentials: Credentials) -> asyncio.Task[Principal | None]:
        """Verify credentials this node was configured with, in the background, so that
        no request has to wait for their argon2 verification. Nothing is spent from the
        throttle and a configured secret that is no longer the stored one (rotated since)
        is simply not remembered."""
        self._warming = asyncio.create_task(
            self.authenticate(credentials, throttled=False), name="camnet-credential-warm"
        )
        return self._warming

    async def stop(self) -> None:
        for task in (self._watcher, self._warming):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._watcher = self._warming = None

    def forget(self) -> None:
        """Something in identity changed: every remembered verification is checked
        against the user's row again on its next use (see the module's docstring)."""
        self._epoch += 1

    def _digest(self, credentials: Credentials) -> bytes:
        message = credentials.user.encode() + b"\x00" + credentials.secret.encode()
        return hmac.new(self._cache_key, message, hashlib.sha256).digest()

    def cached(self, credentials: Credentials) -> Principal | None:
        """The principal for credentials verified before and not stale since, without
        touching the database."""
        remembered = self._cache.get(self._digest(credentials))
        if remembered is None or remembered.epoch != self._epoch:
            return None
        return remembered.principal

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
        remembered = self._cache.get(digest)
        if remembered is not None and remembered.epoch == self._epoch:
            return remembered.principal
        if remembered is None and throttled:  # a refused guess costs no task, no read, no hash
            # (and a guesser's refusal is held by the tarpit: identity/throttle.py)
            await self._passwords.throttle.admit(address, user_key(credentials.user))
        # Single flight: many connections presenting the same new (or stale) credentials
        # at once share one verification instead of queueing one each.
        pending = self._verifying.get(digest)
        if pending is None:
            epoch = self._epoch
            work = (
                self._verify(credentials, address, throttled)
                if remembered is None
                else self._confirm(credentials, address, throttled, remembered)
            )
            pending = asyncio.ensure_future(self._remember(digest, epoch, work))
            self._verifying[digest] = pending
            pending.add_done_callback(lambda _f: self._verifying.pop(digest, None))
        result = await asyncio.shield(pending)
        return None if result is None else result.principal

    async def _remember(
        self, digest: bytes, epoch: int, work: Awaitable[_Remembered | None]
    ) -> _Remembered | None:
        """Run a verification and keep its result, tagged with the epoch it started in:
        a change that happened meanwhile leaves it stale, to be confirmed again."""
        result = await work
        if result is None:
            self._cache.pop(digest, None)
            return None
        if len(self._cache) >= _MAX_CACHED:
            self._cache.clear()
        self._cache[digest] = _Remembered(result.principal, result.secret_hash, epoch)
        return result

    async def _verify(
        self, credentials: Credentials, address: str | None, throttled: bool = True
    ) -> _Remembered | None:
        """The full check: the throttle, the user's row, argon2 on the hashing threads."""
        record = await self._passwords.user(
            address, credentials.user, credentials.secret, throttled=throttled
        )
        if record is None:
            return None
        session = "c:" + self._digest(credentials).hex()[:32]
        principal = await self._database.run(self._principal, record, session)
        return _Remembered(principal, record.secret_hash, self._epoch)

    async def _confirm(
        self,
        credentials: Credentials,
        address: str | None,
        throttled: bool,
        remembered: _Remembered,
    ) -> _Remembered | None:
        """A stale verification: kept, with a principal built afresh from the user's row,
        when that row still holds the secret hash it was verified against; otherwise the
        full check (a changed secret is verified again, and a wrong one counts)."""
        session = "c:" + self._digest(credentials).hex()[:32]
        principal = await self._database.run(
            self._still_valid, credentials.user, remembered.secret_hash, session
        )
        if principal is not None:
            return _Remembered(principal, remembered.secret_hash, self._epoch)
        if throttled:  # (a guesser's refusal held, as in ``authenticate``)
            await self._passwords.throttle.admit(address, user_key(credentials.user))
        return await self._verify(credentials, address, throttled)

    def _still_valid(self, qualified: str, secret_hash: str, session: str) -> Principal | None:
        """Database thread: the principal when the user is enabled and still has
        ``secret_hash``; None otherwise."""
        account, name = split_qualified(qualified)
        record = self._users.get(name, account) if name else None
        if record is None or not record.enabled or record.secret_hash != secret_hash:
            return None
        return self._principal(record, session)

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
