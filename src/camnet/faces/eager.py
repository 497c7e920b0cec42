"""Run a coroutine on the caller's turn until it first has to wait.

Fan-out to many WebSocket clients is mostly sends that complete at once (the socket is
writable). Wrapping each one in a task costs a scheduling round per client; stepping the
coroutine directly finishes those sends immediately and creates a task only for the few
that must wait for a slow client. (Python 3.12's eager task factory does the same.)
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any


@types.coroutine
def _continue(coro: Coroutine[Any, Any, None], pending: Any) -> Generator[Any, Any, None]:
    """Drive the rest of ``coro``, which last yielded ``pending``, inside a task."""
    while True:
        try:
            sent = yield pending
        except BaseException as exc:  # delivered to the coroutine, e.g. cancellation
            try:
                pending = coro.throw(exc)
            except StopIteration:
                return
        else:
            try:
                pending = coro.send(sent)
            except StopIteration:
                return


async def _finish(coro: Coroutine[Any, Any, None], pending: Any) -> None:
    await _continue(coro, pending)


def start_eagerly(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None] | None:
    """Run ``coro`` now; return None if it completed, or the task that completes it.

    An exception raised before the first suspension propagates to the caller.
    """
    try:
        pending = coro.send(None)
    except StopIteration:
        return None
    task = asyncio.ensure_future(_finish(coro, pending))
    # A task cancelled before its first step never enters ``_finish``; closing the
    # coroutine still runs its cleanup (a no-op when it has already finished).
    task.add_done_callback(lambda _task: coro.close())
    return task
