"""Stopping many parts where one may fail: each stop runs, each failure is one log line.

Shutdown must not end half-way because one component raised (the MQTT bridge once left
the recording, listeners and databases unstopped and uvicorn printed "Application
shutdown failed" with a traceback). Failures are logged without a traceback at error
level (the traceback at debug level, for whoever looks into it) and stopping goes on.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence

log = logging.getLogger(__name__)

Stop = Callable[[], Awaitable[None] | None]


async def stop_all(steps: Sequence[tuple[str, Stop | None]]) -> list[str]:
    """Run every ``(name, stop)`` in order (``None`` is skipped); the names that failed."""
    failed: list[str] = []
    for name, stop in steps:
        if stop is None:
            continue
        try:
            result = stop()
            if inspect.isawaitable(result):
                await result
        except (Exception, asyncio.CancelledError, BaseExceptionGroup) as exc:
            failed.append(name)
            log.error("stopping %s failed: %s", name, str(exc) or type(exc).__name__)
            log.debug("stopping %s failed", name, exc_info=True)
    return failed
