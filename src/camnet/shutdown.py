"""Graceful shutdown: the first SIGTERM (or Ctrl-C) stops in order, a second one at once.

uvicorn already turns the first signal into the app's lifespan shutdown (``Node.stop``:
viewers ended, recording segments completed in the index, webhook outcomes committed,
databases closed). This server adds two things:

- a deadline: if stopping has not finished ``DEADLINE`` seconds after the first signal,
  the process exits anyway (status 1), so a stuck part never keeps it alive;
- a second SIGTERM or SIGINT exits at once (status 128 + signal).

Exiting early is as safe as ``kill -9``: nothing acknowledged is lost on kill -9.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from types import FrameType
from typing import Final

import uvicorn

log = logging.getLogger(__name__)

DEADLINE: Final = 9.5
"""Seconds from the first signal to a forced exit."""


class GracefulServer(uvicorn.Server):
    """uvicorn's server with camnet's signal rules."""

    def __init__(self, config: uvicorn.Config, deadline: float = DEADLINE) -> None:
        super().__init__(config)
        self._deadline = deadline
        self._timer: threading.Timer | None = None
        self.stopped_by: int | None = None
        """The first signal that stopped the server (``serve`` exits 130 on SIGINT)."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig in (signal.SIGTERM, signal.SIGINT):
            _exit_now(128 + sig, "second signal: exiting at once")
        if self._timer is None:
            self.stopped_by = sig
            log.info("shutting down (signal %s); a second one exits at once", sig)
            self._timer = threading.Timer(self._deadline, _exit_now, (1, "shutdown too slow"))
            self._timer.daemon = True
            self._timer.start()
        super().handle_exit(sig, frame)


def _exit_now(status: int, why: str) -> None:
    log.warning("%s", why)
    logging.shutdown()
    os._exit(status)
