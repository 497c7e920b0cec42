"""argon2 verification on its own small, bounded pool of threads.

A verification costs tens of milliseconds of CPU by design. Run on the database thread
(as it once was), 20 connections guessing passwords queued every acknowledged write
behind them (17 ms → 5.2 s p99). Here it runs on ``workers`` threads of its own (argon2's
C code releases the GIL), and at most ``queue`` more wait: a flood beyond that is refused
at once with ``Throttled`` (429, ``Retry-After: 1``) instead of queueing without end.

The threads also run at a lower scheduling priority (``nice`` + ``NICENESS``, Linux): on a
small machine a flood of guesses then takes the CPU the event loop and the database
thread leave over, instead of a fair share of it, and only password checks slow down.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from camnet.identity.throttle import Throttled
from camnet.identity.users import verify_secret

NICENESS: Final = 10
WORKERS: Final = 2
"""Two threads: a guesser can take at most two cores' worth of argon2, whatever it sends."""
QUEUE: Final = 16
"""Checks that may wait for a thread; a sign-in waits at most a few verifications."""


def _lower_priority() -> None:
    """Raise this thread's nice value (a thread id is a process id to ``setpriority`` on
    Linux); where that is not possible the thread simply keeps the normal priority."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + NICENESS)


class Hasher:
    def __init__(self, workers: int = WORKERS, queue: int = QUEUE) -> None:
        self.workers = workers
        self.queue = queue
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix="camnet-argon2", initializer=_lower_priority
        )
        self._pending = 0

    async def verify(self, secret_hash: str | None, secret: str) -> bool:
        """``verify_secret`` off the loop and off the database thread."""
        if self._pending >= self.workers + self.queue:
            raise Throttled(1, "too many credential checks at once; try again in a second")
        self._pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, verify_secret, secret_hash, secret)
        finally:
            self._pending -= 1

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
