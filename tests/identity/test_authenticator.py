"""Credentials as the c2 dialect presents them, and their verification."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

from camnet.identity.authenticator import Authenticator, Credentials, c2_credentials
from camnet.identity.bootstrap import ensure_initial_users
from camnet.identity.permissions import ALL, PermissionPolicy, Role
from camnet.identity.users import UserRepository
from camnet.store.database import Database


def basic(text: str) -> str:
    return "Basic " + base64.b64encode(text.encode()).decode()


def test_credential_forms() -> None:
    assert c2_credentials({"token": "t"}, None) == Credentials("API-User", "t")
    assert c2_credentials({"password": "p", "user": "admin"}, None) == Credentials("admin", "p")
    assert c2_credentials({}, basic("admin:p:with:colons")) == Credentials("admin", "p:with:colons")
    assert c2_credentials({"token": "t"}, basic("admin:p")) == Credentials("admin", "p")
    assert c2_credentials({}, None) is None
    assert c2_credentials({}, basic("no-colon")) is None
    assert c2_credentials({}, "Basic ***") is None


async def test_verification_and_cache(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    users = UserRepository(database.engine)
    created = ensure_initial_users(users, "admin-secret", None)
    assert created.admin_password == "admin-secret"
    assert created.api_token
    again = ensure_initial_users(users, "other", "other")
    assert not again.any
    authenticator = Authenticator(database, PermissionPolicy(None, ["light0"]), poll_interval=0.05)
    await authenticator.start()
    try:
        admin = await authenticator.authenticate(Credentials("admin", "admin-secret"))
        assert admin is not None
        assert admin.role is Role.ADMIN
        assert admin.grant is ALL
        assert authenticator.cached(Credentials("admin", "admin-secret")) == admin
        assert await authenticator.authenticate(Credentials("admin", "wrong")) is None
        assert await authenticator.authenticate(Credentials("ghost", "x")) is None
        api = await authenticator.authenticate(Credentials("API-User", created.api_token or ""))
        assert api is not None
        assert api.grant.may_write("light0")
        assert not api.grant.may_write("gain")
        await database.run(users.set_secret, "admin", "new-secret")
        authenticator.forget()
        assert await authenticator.authenticate(Credentials("admin", "admin-secret")) is None
    finally:
        await authenticator.stop()
        database.close()


async def test_concurrent_first_requests_share_one_verification(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    ensure_initial_users(UserRepository(database.engine), "admin-secret", "api-secret")
    authenticator = Authenticator(database, PermissionPolicy(None, []))
    calls = 0
    verify = authenticator._verify

    async def counting(
        credentials: Credentials, address: str | None, throttled: bool = True
    ) -> object:
        nonlocal calls
        calls += 1
        return await verify(credentials, address, throttled)

    authenticator._verify = counting  # type: ignore[method-assign,assignment]
    try:
        results = await asyncio.gather(
            *(authenticator.authenticate(Credentials("API-User", "api-secret")) for _ in range(20))
        )
    finally:
        database.close()
    assert calls == 1
    assert all(r is not None and r.user == "API-User" for r in results)


def counting_hasher(authenticator: Authenticator) -> list[str]:
    """Every argon2 verification the authenticator asks for, by secret presented."""
    hasher = authenticator._passwords.hasher
    verify = hasher.verify
    calls: list[str] = []

    async def counted(secret_hash: str | None, secret: str) -> bool:
        calls.append(secret)
        return await verify(secret_hash, secret)

    hasher.verify = counted  # type: ignore[method-assign]
    return calls


async def test_an_unrelated_change_costs_no_new_verification(tmp_path: Path) -> None:
    """Identity changes elsewhere (a revoked token, a new API key) make remembered
    verifications stale: the next use reads the user's row, not argon2, unless the
    secret itself changed; a disabled user or a changed role is seen at once."""
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    users = UserRepository(database.engine)
    ensure_initial_users(users, "admin-secret", "api-secret")
    authenticator = Authenticator(database, PermissionPolicy(None, ["light0"]))
    calls = counting_hasher(authenticator)
    api = Credentials("API-User", "api-secret")
    try:
        assert await authenticator.authenticate(api) is not None
        assert calls == ["api-secret"]
        authenticator.forget()
        assert authenticator.cached(api) is None  # stale: not answered from memory alone
        assert await authenticator.authenticate(api) is not None
        assert calls == ["api-secret"]  # confirmed from the row, no argon2
        assert authenticator.cached(api) is not None

        await database.run(users.change, "default", "API-User", None, role=Role.ADMIN)
        authenticator.forget()
        promoted = await authenticator.authenticate(api)
        assert promoted is not None
        assert promoted.role is Role.ADMIN
        assert calls == ["api-secret"]

        await database.run(users.change, "default", "API-User", None, enabled=False)
        authenticator.forget()
        assert await authenticator.authenticate(api) is None
        await database.run(users.change, "default", "API-User", None, enabled=True)
        authenticator.forget()
        assert await authenticator.authenticate(api) is not None

        await database.run(users.set_secret, "API-User", "rotated")
        authenticator.forget()
        assert await authenticator.authenticate(api) is None  # verified again, refused
        assert await authenticator.authenticate(Credentials("API-User", "rotated")) is not None
    finally:
        await authenticator.stop()
        database.close()


async def test_warm_verifies_a_configured_token_before_any_request(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    users = UserRepository(database.engine)
    ensure_initial_users(users, "admin-secret", "api-secret")
    authenticator = Authenticator(database, PermissionPolicy(None, ["light0"]))
    calls = counting_hasher(authenticator)
    try:
        warmed = await authenticator.warm(Credentials("API-User", "api-secret"))
        assert warmed is not None
        assert authenticator.cached(Credentials("API-User", "api-secret")) == warmed
        assert await authenticator.authenticate(Credentials("API-User", "api-secret")) == warmed
        assert calls == ["api-secret"]
        # A configured token rotated away since: not remembered, and no failure counted.
        failures: list[object] = []
        authenticator._passwords.throttle.failed = lambda *keys: failures.append(keys)  # type: ignore[method-assign]
        assert await authenticator.warm(Credentials("API-User", "stale")) is None
        assert authenticator.cached(Credentials("API-User", "stale")) is None
        assert failures == []
    finally:
        await authenticator.stop()
        database.close()
