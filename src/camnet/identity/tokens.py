"""Access and refresh tokens: 256 random bits each, stored only as SHA-256 digests.

A token is looked up by its digest, so the database never holds anything that could be
presented. A fast hash is right here (unlike passwords): a 256-bit random token cannot be
guessed, so slowing down each check would protect nothing. Refresh tokens belong to a
*family*: every refresh issues a new one and marks the old as used; presenting a used one
again means it leaked, and the whole family is revoked (RFC 9700 §4.14.2).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Final, Literal

from sqlalchemy import Engine, Row, insert, select, update

from camnet.store import tables

TokenKind = Literal["access", "refresh"]
SubjectKind = Literal["user", "client"]

TOKEN_BYTES: Final = 32


def new_token() -> str:
    return secrets.token_hex(TOKEN_BYTES)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def new_family() -> str:
    return secrets.token_hex(16)


@dataclass(frozen=True, slots=True)
class TokenRecord:
    id: int
    kind: TokenKind
    family: str
    subject_kind: SubjectKind
    subject_id: int
    client: int | None
    issued_at: float
    expires_at: float
    used_at: float | None
    revoked_at: float | None

    def live(self, now: float) -> bool:
        return self.revoked_at is None and now < self.expires_at


def _record(row: Row[tuple[object, ...]]) -> TokenRecord:
    m = row._mapping
    return TokenRecord(
        id=m["id"],
        kind=m["kind"],
        family=m["family"],
        subject_kind=m["subject_kind"],
        subject_id=m["subject_id"],
        client=m["client"],
        issued_at=m["issued_at"],
        expires_at=m["expires_at"],
        used_at=m["used_at"],
        revoked_at=m["revoked_at"],
    )


class TokenRepository:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def issue(
        self,
        kind: TokenKind,
        family: str,
        subject_kind: SubjectKind,
        subject_id: int,
        client: int | None,
        issued_at: float,
        lifetime: float,
    ) -> str:
        token = new_token()
        with self._engine.begin() as connection:
            connection.execute(
                insert(tables.tokens).values(
                    token_hash=digest(token),
                    kind=kind,
                    family=family,
                    subject_kind=subject_kind,
                    subject_id=subject_id,
                    client=client,
                    issued_at=issued_at,
                    expires_at=issued_at + lifetime,
                )
            )
        return token

    def find(self, token: str) -> TokenRecord | None:
        query = select(tables.tokens).where(tables.tokens.c.token_hash == digest(token))
        with self._engine.connect() as connection:
            row = connection.execute(query).first()
        return None if row is None else _record(row)

    def claim(self, token_id: int, at: float) -> bool:
        """Mark a refresh token used; false when it was used or revoked before (a race
        between two refreshes with one token has exactly one winner)."""
        t = tables.tokens
        with self._engine.begin() as connection:
            result = connection.execute(
                update(t)
                .where(t.c.id == token_id, t.c.used_at.is_(None), t.c.revoked_at.is_(None))
                .values(used_at=at)
            )
        return result.rowcount == 1

    def revoke(self, token_id: int, at: float) -> None:
        t = tables.tokens
        with self._engine.begin() as connection:
            connection.execute(
                update(t).where(t.c.id == token_id, t.c.revoked_at.is_(None)).values(revoked_at=at)
            )

    def revoke_family(self, family: str, at: float) -> int:
        t = tables.tokens
        with self._engine.begin() as connection:
            result = connection.execute(
                update(t)
                .where(t.c.family == family, t.c.revoked_at.is_(None))
                .values(revoked_at=at)
            )
        return result.rowcount

    def revoke_subject(
        self, subject_kind: SubjectKind, subject_id: int, at: float, keep_family: str | None
    ) -> int:
        """Revoke every token (access and refresh, OAuth and fleet) of one user or client,
        except those of ``keep_family`` (the session that asked): a password change."""
        t = tables.tokens
        condition = [
            t.c.subject_kind == subject_kind,
            t.c.subject_id == subject_id,
            t.c.revoked_at.is_(None),
        ]
        if keep_family is not None:
            condition.append(t.c.family != keep_family)
        with self._engine.begin() as connection:
            result = connection.execute(update(t).where(*condition).values(revoked_at=at))
        return result.rowcount

    def revocations_version(self) -> str:
        """Changes whenever any token is revoked, by this or another process."""
        from sqlalchemy import func

        t = tables.tokens
        # Only revoked tokens: the partial index ix_tokens_revoked_at answers, no scan.
        query = select(func.count(t.c.revoked_at), func.max(t.c.revoked_at)).where(
            t.c.revoked_at.is_not(None)
        )
        with self._engine.connect() as connection:
            count, latest = connection.execute(query).one()
        return f"{count}:{latest}"
