"""Every password and client-secret check of every path: throttle, look up, verify.

The order is the point: the throttle is asked before anything costs (a refused guess
touches neither the database nor argon2), the record is read on the database thread
(cheap), and the argon2 verification runs on the ``Hasher``'s own threads, never on the
database thread. An unknown name, a wrong secret and a disabled account cost the same
and count the same: one failure against the source address and against the name.

Each check takes its address's turn (``CredentialThrottle.turn``: one at a time per
source address), and a refusal, the throttle's or the hashing pool's (full), is held by
the throttle's tarpit when the address is a guesser (``identity/throttle.py``).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from camnet.identity.clients import ClientRecord, ClientRepository
from camnet.identity.hashing import Hasher
from camnet.identity.throttle import CredentialThrottle, Throttled, client_key, user_key
from camnet.identity.users import UserRecord, UserRepository, split_qualified
from camnet.store.database import Database


class PasswordCheck:
    def __init__(self, database: Database, throttle: CredentialThrottle, hasher: Hasher) -> None:
        self._database = database
        self._users = UserRepository(database.engine)
        self._clients = ClientRepository(database.engine)
        self.throttle = throttle
        self.hasher = hasher

    @contextlib.asynccontextmanager
    async def _one_check(self, address: str | None) -> AsyncIterator[None]:
        """The address's turn (one check at a time); a refusal inside it, the
        throttle's or the hashing pool's, is held (the tarpit) after the turn is left,
        so a held guess never keeps the address's next check waiting."""
        try:
            async with self.throttle.turn(address):
                yield
        except Throttled as refused:
            await self.throttle.hold(address, refused)
            raise

    async def user(
        self, address: str | None, qualified: str, password: str, *, throttled: bool = True
    ) -> UserRecord | None:
        """The enabled user ``account\\name`` if ``password`` is theirs; raises
        ``Throttled`` when the address or the name must wait. ``throttled=False`` checks
        an open session's credentials again without spending from any budget."""
        key = user_key(qualified)
        account, name = split_qualified(qualified)
        if not throttled:
            record = await self._database.run(self._users.get, name, account) if name else None
            ok = await self.hasher.verify(record.secret_hash if record else None, password)
            return record if record is not None and ok and record.enabled else None
        async with self._one_check(address):
            self.throttle.check(address, key)
            record = await self._database.run(self._users.get, name, account) if name else None
            return await self._settle(address, key, record, password)

    async def user_by_email(
        self, address: str | None, email: str, password: str
    ) -> UserRecord | None:
        """Fleet sign-in: the same, found by email (the lock-out is the user's own)."""
        async with self._one_check(address):
            self.throttle.check(address)
            record = await self._database.run(self._users.get_by_email, email) if email else None
            key = user_key(record.qualified) if record else ("email", email.lower())
            self.throttle.check(address, key)
            return await self._settle(address, key, record, password)

    async def client(self, address: str | None, reference: str, secret: str) -> ClientRecord | None:
        """The enabled OAuth client ``owner.client_id`` if ``secret`` is its secret."""
        key = client_key(reference)
        async with self._one_check(address):
            self.throttle.check(address, key)
            owner, _, client_id = reference.rpartition(".")
            record = (
                await self._database.run(self._clients.get, owner, client_id) if owner else None
            )
            ok = await self.hasher.verify(record.secret_hash if record else None, secret)
            if record is None or not ok or not record.enabled:
                self.throttle.failed(address, key)
                await self.throttle.pace(address)
                return None
            self.throttle.succeeded(key)
            return record

    async def _settle(
        self, address: str | None, key: object, record: UserRecord | None, password: str
    ) -> UserRecord | None:
        ok = await self.hasher.verify(record.secret_hash if record else None, password)
        if record is None or not ok or not record.enabled:
            self.throttle.failed(address, key)
            await self.throttle.pace(address)
            return None
        self.throttle.succeeded(key)
        return record
