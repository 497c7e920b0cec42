"""The one credential throttle: every path that checks a password spends from it.

``/oauth/token``, ``/pauth/token``, the dashboard's sign-in, fleet login, and Basic or
``?user=&password=`` on every closed route (c2, streams, gallery, Gateway, RTSP) ask the
same ``CredentialThrottle`` before checking a secret and tell it how the check went. So a
guesser gets the same budgets wherever it knocks:

- per source address: ``failures_per_minute`` failed checks per clock minute, then every
  check from that address is refused until the minute ends;
- per username (or client): ``free`` failures, then each further failure locks the name
  out for 1, 2, 4 … 300 s, on every path at once (the key is the canonical
  ``account\\name``, whichever spelling or path presented it).

A refusal is ``Throttled`` (seconds to wait and a sentence); each face words it in its own
dialect as a 429 (RTSP: 503) with ``Retry-After``. The budgets are pure bookkeeping on an
injected clock.

Each check takes its address's ``turn``: one at a time per source address, a few more
waiting. One address, however many connections it opens, then keeps at most one hashing
thread busy, and its guesses meet each failure's lock-out one by one instead of racing
past it together; from its second failure in a minute on, each failure's answer waits
``hold`` seconds still in the turn (``pace``), so an address costs at most about one
hash per ``hold``.

**The tarpit.** A refusal costs no hash, but a guesser refused at once simply asks again:
20 keep-alive connections drew 700 to 3,300 refusals a second, and answering them took
enough CPU from a 2-core server to triple (or worse) an acknowledged write's p99
(docs/benchmarks.md, issue 17 item 3). So a refusal to a guesser, an address that has
failed a check this minute (over its own budget, knocking on a locked-out name, or one
more guess while the hashing pool is full) or has more checks than its turn queue holds,
is *held* for ``hold`` seconds (at most its ``Retry-After``) before it is answered: an
``asyncio.sleep``, no thread, no CPU, and each guessing connection gets about one answer
a second. What bounds the held connections: an HTTP connection asks one thing at a time
and the listeners cap connections per address and in all (``protocols/http_guard.py``);
besides, at most ``MAX_HELD`` refusals are held at once (more are answered at once), so
no listener, RTSP's included, can be made to hold without end. An address that has not
failed (a user on another address, even one whose name an attacker locked out) is never
held, and a refusal's status, headers and body stay each face's own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Final

from camnet.clock import Clock
from camnet.identity.ratelimit import FailureBackoff, FixedWindowLimiter
from camnet.identity.users import split_qualified

MAX_HELD: Final = 1024
"""Refusals held at once, all addresses and listeners together; more are answered at once."""
TURN_QUEUE: Final = 64
"""Credential checks from one address that may wait for its one at a time (``turn``)."""


class Throttled(Exception):
    """A credential check refused without checking: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.message = message
        self.held = False
        """Whether the tarpit already held it (a refusal is held once, however many
        layers it passes on its way to the face that answers it)."""


def user_key(qualified: str) -> tuple[str, str]:
    """The throttle's key of a username, however it was spelled (``admin`` and
    ``default\\admin`` are one user; names compare case-insensitively)."""
    account, name = split_qualified(qualified)
    return ("user", f"{account}\\{name}".lower())


def client_key(reference: str) -> tuple[str, str]:
    return ("client", reference.lower())


class CredentialThrottle:
    def __init__(
        self,
        clock: Clock,
        *,
        failures_before_backoff: int,
        failures_per_minute: int,
        hold: float = 0.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """``hold``: the tarpit's seconds (0: refusals are answered at once; the node
        passes the ``token_failure_hold`` setting). ``sleep`` is injectable for tests."""
        self.backoff = FailureBackoff(clock, free=failures_before_backoff)
        self.address_failures = FixedWindowLimiter(clock, failures_per_minute)
        self.hold_seconds = hold
        self._sleep = sleep
        self.holding = 0
        """Refusals being held now."""
        self._checking: Counter[str] = Counter()
        self._turns: dict[str, asyncio.Lock] = {}

    @contextlib.asynccontextmanager
    async def turn(self, address: str | None) -> AsyncIterator[None]:
        """Around one credential check (throttle, read, verify): one at a time per
        address, at most ``TURN_QUEUE`` more waiting; one more is refused (and held).
        So one address, however many connections it opens, keeps at most one hashing
        thread busy (the pool's others stay free for everyone else), and its guesses
        meet each failure's lock-out one by one instead of all racing past it."""
        if address is None:
            yield
            return
        if self._checking[address] > TURN_QUEUE:
            refused = Throttled(1, "too many credential checks from this address at once")
            await self.hold(address, refused, guessing=True)
            raise refused
        self._checking[address] += 1
        lock = self._turns.setdefault(address, asyncio.Lock())
        try:
            async with lock:
                yield
        finally:
            self._checking[address] -= 1
            if not self._checking[address]:
                del self._checking[address]
                del self._turns[address]

    async def admit(self, address: str | None, *keys: object) -> None:
        """``check``, but a refusal to a guessing address is held first (the tarpit)."""
        try:
            self.check(address, *keys)
        except Throttled as refused:
            await self.hold(address, refused)
            raise

    def hold_for(self, address: str | None, refused: Throttled, *, guessing: bool = False) -> float:
        """Seconds to hold ``refused`` before answering it: the tarpit's ``hold`` (at
        most the refusal's ``Retry-After``) for a guesser (``guessing``, or an address
        that failed a check this minute), while fewer than ``MAX_HELD`` are held; else 0."""
        if refused.held or self.hold_seconds <= 0 or address is None:
            return 0.0
        if self.holding >= MAX_HELD:
            return 0.0
        budget = self.address_failures.peek(("address", address))
        if budget.remaining >= budget.limit and not guessing:
            return 0.0  # no failure from this address this minute: not a guesser
        return min(self.hold_seconds, float(refused.retry_after))

    async def hold(
        self, address: str | None, refused: Throttled, *, guessing: bool = False
    ) -> None:
        """Hold ``refused`` as ``hold_for`` says (a sleep: no thread, no CPU), once."""
        seconds = self.hold_for(address, refused, guessing=guessing)
        refused.held = True
        if seconds <= 0:
            return
        self.holding += 1
        try:
            await self._sleep(seconds)
        finally:
            self.holding -= 1

    async def pace(self, address: str | None) -> None:
        """After a failed check, still in the address's ``turn``: from its second failure
        this minute on, the answer (so the address's next check, too) waits ``hold``
        seconds. A guesser's checks then cost at most one hash per ``hold`` however many
        connections it opens; a user's one typo is answered at once."""
        if address is None or self.hold_seconds <= 0 or self.holding >= MAX_HELD:
            return
        budget = self.address_failures.peek(("address", address))
        if budget.limit - budget.remaining < 2:
            return
        self.holding += 1
        try:
            await self._sleep(self.hold_seconds)
        finally:
            self.holding -= 1

    def check(self, address: str | None, *keys: object) -> None:
        """Raise ``Throttled`` if the address or any key must wait (answered at once:
        what callers that cannot wait use; ``admit`` is the tarpit's way)."""
        if address is not None:
            budget = self.address_failures.peek(("address", address))
            if not budget.allowed:
                raise Throttled(budget.retry_after, "too many failed attempts from this address")
        for key in keys:
            wait = self.backoff.retry_after(key)
            if wait:
                raise Throttled(wait, "too many failed attempts; wait before trying again")

    def failed(self, address: str | None, *keys: object) -> None:
        if address is not None:
            self.address_failures.hit(("address", address))
        for key in keys:
            self.backoff.failed(key)

    def succeeded(self, *keys: object) -> None:
        for key in keys:
            self.backoff.succeeded(key)
