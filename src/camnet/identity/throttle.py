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
dialect as a 429 (RTSP: 503) with ``Retry-After``. Pure bookkeeping on an injected clock.
"""

from __future__ import annotations

from camnet.clock import Clock
from camnet.identity.ratelimit import FailureBackoff, FixedWindowLimiter
from camnet.identity.users import split_qualified


class Throttled(Exception):
    """A credential check refused without checking: wait ``retry_after`` seconds."""

    def __init__(self, retry_after: int, message: str) -> None:
        super().__init__(message)
        self.retry_after = max(1, retry_after)
        self.message = message


def user_key(qualified: str) -> tuple[str, str]:
    """The throttle's key of a username, however it was spelled (``admin`` and
    ``default\\admin`` are one user; names compare case-insensitively)."""
    account, name = split_qualified(qualified)
    return ("user", f"{account}\\{name}".lower())


def client_key(reference: str) -> tuple[str, str]:
    return ("client", reference.lower())


class CredentialThrottle:
    def __init__(
        self, clock: Clock, *, failures_before_backoff: int, failures_per_minute: int
    ) -> None:
        self.backoff = FailureBackoff(clock, free=failures_before_backoff)
        self.address_failures = FixedWindowLimiter(clock, failures_per_minute)

    def check(self, address: str | None, *keys: object) -> None:
        """Raise ``Throttled`` if the address or any key must wait."""
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
