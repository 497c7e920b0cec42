"""Viewer caps: how many MJPEG viewers one stream, and one token, may have at once.

A cap protects the encoder and the uplink from a client that opens streams in a loop;
the refusal is counted in ``camnet_limit_refusals_total`` so an operator sees it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

WEBSOCKET_CEILING_FACTOR = 4


def websocket_ceiling(ws_max_message_bytes: int) -> int:
    """The HTTP server's own WebSocket frame limit (uvicorn's ``ws_max_size``): above the
    setting, so a message just over it reaches camnet, which answers the dialect's error
    and counts it; still finite, so a giant frame is cut (1009) before it is buffered."""
    return WEBSOCKET_CEILING_FACTOR * ws_max_message_bytes


class LimitReached(Exception):
    """A cap was reached; ``limit`` names it (the metric label), ``message`` says why."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit
        self.message = message


class ViewerLimits:
    """Counts viewers per stream and per token (event loop only, no lock needed)."""

    def __init__(
        self, per_stream: int, per_token: int, on_refusal: Callable[[str], None] | None = None
    ) -> None:
        self.per_stream = per_stream
        self.per_token = per_token
        self._on_refusal = on_refusal
        self.streams: Counter[str] = Counter()
        self._tokens: Counter[str] = Counter()

    def _refuse(self, limit: str, message: str) -> LimitReached:
        if self._on_refusal is not None:
            self._on_refusal(limit)
        return LimitReached(limit, message)

    @contextmanager
    def watching(self, stream: str, token: str | None) -> Iterator[None]:
        """One viewer of ``stream`` for as long as the block runs; raises ``LimitReached``
        before counting anything when a cap would be exceeded."""
        if self.streams[stream] >= self.per_stream:
            raise self._refuse(
                "mjpeg_viewers_per_stream",
                f"the stream {stream} has its maximum of {self.per_stream} viewers",
            )
        if token is not None and self._tokens[token] >= self.per_token:
            raise self._refuse(
                "mjpeg_viewers_per_token",
                f"these credentials already watch {self.per_token} streams, the maximum",
            )
        self.streams[stream] += 1
        if token is not None:
            self._tokens[token] += 1
        try:
            yield
        finally:
            self.streams[stream] -= 1
            if token is not None:
                self._tokens[token] -= 1
                if self._tokens[token] <= 0:
                    del self._tokens[token]
