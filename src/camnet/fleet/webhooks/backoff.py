"""When to try a failed delivery again (no I/O, no clock).

Exponential backoff with "equal jitter": the n-th retry waits between half and all of
``base * 2**(n-1)``, capped at ``ceiling``, so failed deliveries to one receiver spread
out instead of arriving together. A ``Retry-After`` from a 429 or 503 replaces the
computed delay (capped the same way).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

from camnet.web.numbers import decimal


@dataclass
class Backoff:
    base: float = 5.0
    ceiling: float = 3600.0
    max_attempts: int = 12
    rng: random.Random = field(default_factory=random.Random)

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failed attempt (1-based)."""
        full = min(self.ceiling, self.base * 2.0 ** max(0, attempts - 1))
        return full / 2 + self.rng.uniform(0, full / 2)

    def gives_up(self, attempts: int) -> bool:
        return attempts >= self.max_attempts


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    seconds = decimal(value)
    if seconds is not None:
        return float(seconds)
    if value.isdigit():  # more digits than any wait: ignored, like a malformed date
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now)
