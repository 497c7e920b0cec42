"""The conversation behind one SDK call, written once for both clients (sans-I/O).

:func:`exchange` is a generator: it yields each :class:`Outgoing` request (the token
request first when one is due, the call itself, a retry after a refused token) and is
sent back the :class:`Answer`; it returns the call's value or raises the typed error.
The sync client drives it with ``httpx.Client``, the async one with
``httpx.AsyncClient`` — neither knows anything about tokens or error bodies.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from camnet.client.auth import TokenAnswer, TokenKeeper
from camnet.client.errors import AuthError, CamnetError, ProtocolError, error_from_response
from camnet.client.requests import Call

T = TypeVar("T")
SIGN_IN_REFUSALS: Final = frozenset({"invalid_grant", "invalid_client", "unauthorized_client"})
_CONTENT_RANGE: Final = re.compile(r"^bytes (?:(\d+)-(\d+)|\*)/(\d+|\*)$")


@dataclass(frozen=True, slots=True)
class Outgoing:
    call: Call[Any]
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    content: bytes
    reason: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


Flow = Generator[Outgoing, Answer, T]


def _checked(call: Call[T], answer: Answer) -> T:
    if not answer.ok:
        raise error_from_response(answer.status, answer.headers, answer.content, answer.reason)
    return call.read(answer.content, answer.headers)


def ensure_token(keeper: TokenKeeper) -> Flow[None]:
    """Get a token when none is held or the one held is about to expire. A refused
    refresh falls back to the credentials themselves (a new sign-in)."""
    call = keeper.pending()
    if call is None:
        return
    sent_at = keeper.clock()
    answer = yield Outgoing(call, {})
    is_refresh = call.data is not None and call.data.get("grant_type") == "refresh_token"
    if not answer.ok and is_refresh:
        fresh = keeper.fresh_call()
        if fresh is not None:
            call = fresh
            sent_at = keeper.clock()
            answer = yield Outgoing(call, {})
    try:
        token: TokenAnswer = _checked(call, answer)
    except CamnetError as error:
        keeper.forget()
        if error.code in SIGN_IN_REFUSALS and not isinstance(error, AuthError):
            # RFC 6749 answers a wrong password with 400 invalid_grant: to the caller it is
            # a refused sign-in, like any 401.
            raise AuthError(
                error.message,
                status=error.status,
                code=error.code,
                dialect=error.dialect,
                body=error.body,
                headers=error.headers,
            ) from None
        raise
    keeper.accept(token, sent_at)


def auth_headers(keeper: TokenKeeper) -> Flow[dict[str, str]]:
    """The headers that authenticate a request now (for streams and WebSockets)."""
    yield from ensure_token(keeper)
    return keeper.headers()


def exchange(keeper: TokenKeeper, call: Call[T]) -> Flow[T]:
    """Send ``call`` with credentials; on a 401 for an exchanged token, sign in again
    once and repeat it (the token may have been revoked or the server restarted)."""
    if not call.auth:
        answer = yield Outgoing(call, {})
        return _checked(call, answer)
    yield from ensure_token(keeper)
    answer = yield Outgoing(call, keeper.headers())
    if answer.status == 401 and keeper.exchanges:
        keeper.forget()
        yield from ensure_token(keeper)
        answer = yield Outgoing(call, keeper.headers())
    return _checked(call, answer)


# Range downloads -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeAnswer:
    """What to do with a download answer: ``append`` at ``start``, ``rewrite`` from 0,
    ``done`` (the local part is already the whole file) or ``restart`` (ask again
    without a range: the local part is longer than the file)."""

    action: str
    start: int
    total: int | None


def range_header(offset: int) -> dict[str, str]:
    return {"Range": f"bytes={offset}-"} if offset > 0 else {}


def read_range_answer(offset: int, status: int, headers: Mapping[str, str]) -> RangeAnswer:
    lower = {k.lower(): v for k, v in headers.items()}
    content_range = _CONTENT_RANGE.match(lower.get("content-range", "").strip())
    total: int | None = None
    if content_range is not None and content_range.group(3) != "*":
        total = int(content_range.group(3))
    if status == 206:
        if content_range is None or content_range.group(1) is None:
            raise ProtocolError("a 206 answer without a usable Content-Range", status=206)
        start = int(content_range.group(1))
        if start != offset:
            raise ProtocolError(
                f"asked for bytes from {offset}, the server sent from {start}", status=206
            )
        return RangeAnswer("append", start, total)
    if status == 200:
        length = lower.get("content-length")
        return RangeAnswer("rewrite", 0, int(length) if length and length.isdigit() else None)
    if status == 416 and total is not None:
        return RangeAnswer("done" if total == offset else "restart", offset, total)
    raise ProtocolError(f"unexpected answer {status} to a range request", status=status)
