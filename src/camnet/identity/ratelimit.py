"""Request budgets and brute-force back-off, as pure arithmetic on an injected clock.

``FixedWindowLimiter`` gives every key (an access session and a service) a budget per
minute, the way the identity seed's ``X-RateLimit-*`` headers describe it: a limit, what
is left, and when the window resets (epoch milliseconds). ``FailureBackoff`` slows down
password guessing: a few failures are free, then each failure doubles a lock-out during
which the key is refused without checking anything.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Final

from camnet.clock import Clock

WINDOW_SECONDS: Final = 60.0
_SWEEP_EVERY: Final = 4096


@dataclass(frozen=True, slots=True)
class Budget:
    allowed: bool
    limit: int
    remaining: int
    reset_ms: int
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        return [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset_ms).encode()),
        ]


class FixedWindowLimiter:
    """At most ``limit`` hits per key per clock minute."""

    def __init__(self, clock: Clock, default_limit: int) -> None:
        self._clock = clock
        self.default_limit = default_limit
        self._counts: dict[object, tuple[float, int]] = {}
        self._hits = 0

    def hit(self, key: object, limit: int | None = None) -> Budget:
        limit = self.default_limit if limit is None else limit
        now = self._clock.now()
        window = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
        start, count = self._counts.get(key, (window, 0))
        if start != window:
            count = 0
        reset = window + WINDOW_SECONDS
        allowed = count < limit
        if allowed:
            count += 1
            self._counts[key] = (window, count)
        self._hits += 1
        if self._hits % _SWEEP_EVERY == 0:
            self._sweep(window)
        return Budget(
            allowed=allowed,
            limit=limit,
            remaining=max(0, limit - count),
            reset_ms=int(reset * 1000),
            retry_after=max(1, math.ceil(reset - now)),
        )

    def peek(self, key: object, limit: int | None = None) -> Budget:
        """The budget as it stands, without spending from it."""
        limit = self.default_limit if limit is None else limit
        now = self._clock.now()
        window = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
        start, count = self._counts.get(key, (window, 0))
        if start != window:
            count = 0
        reset = window + WINDOW_SECONDS
        return Budget(
            allowed=count < limit,
            limit=limit,
            remaining=max(0, limit - count),
            reset_ms=int(reset * 1000),
            retry_after=max(1, math.ceil(reset - now)),
        )

    def _sweep(self, window: float) -> None:
        """Forget keys of past windows, so idle sessions cost no memory."""
        stale = [key for key, (start, _) in self._counts.items() if start != window]
        for key in stale:
            del self._counts[key]


@dataclass(slots=True)
class _Failures:
    count: int
    locked_until: float
    last: float


class FailureBackoff:
    """``free`` failures per key, then a lock-out of 1, 2, 4 … ``ceiling`` seconds after
    each further failure. A key with no failure for ``forget_after`` seconds starts over."""

    def __init__(
        self, clock: Clock, free: int = 5, ceiling: float = 300.0, forget_after: float = 900.0
    ) -> None:
        self._clock = clock
        self.free = free
        self.ceiling = ceiling
        self.forget_after = forget_after
        self._keys: dict[object, _Failures] = {}

    def retry_after(self, key: object) -> int:
        """Seconds the key must still wait (0: it may try now)."""
        state = self._keys.get(key)
        if state is None:
            return 0
        now = self._clock.monotonic()
        if now - state.last > self.forget_after:
            del self._keys[key]
            return 0
        return max(0, math.ceil(state.locked_until - now))

    def failed(self, key: object) -> None:
        now = self._clock.monotonic()
        state = self._keys.get(key)
        if state is None or now - state.last > self.forget_after:
            state = _Failures(0, 0.0, now)
            self._keys[key] = state
        state.count += 1
        state.last = now
        beyond = state.count - self.free
        if beyond > 0:
            state.locked_until = now + min(self.ceiling, 2.0 ** (beyond - 1))
        if len(self._keys) > 65536:
            self._keys.clear()

    def succeeded(self, key: object) -> None:
        self._keys.pop(key, None)
