"""Long-lived sessions end with their credentials.

A c2 WebSocket, an MJPEG or streams video, an RTSP play: each was authenticated once, when
it opened, and may then run for hours. Each registers here (``LiveSessions.watch``) with
its principal and a way to ask again whether what it presented still holds (``recheck``:
the same credentials through the policy point, without the failure throttle).

Identity has one signal, ``CredentialsChanged``: it fires whenever anything that could end
a credential changed, whoever noticed (a change made through this node's API, the poll of
the shared database's change counters that notices another node's or ``camnet token
rotate``'s changes, or any later notifier such as a NATS notice: each just calls
``IdentityService.forget()``). On each firing every open session is checked again; one
whose credentials no longer authenticate, or now carry other permissions (a demoted role,
a removed grant), is ended: its ``ended`` event is set and the face closes it (WebSocket
close 1008, end of the MJPEG body, RTSP teardown).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

from camnet.identity.permissions import Principal

log = logging.getLogger(__name__)

POLICY_VIOLATION: Final = 1008
"""The WebSocket close code of a session whose credentials ended (RFC 6455 §7.4.1)."""

_CONCURRENT_CHECKS: Final = 4

Recheck = Callable[[], Awaitable[Principal | None]]


class CredentialsChanged:
    """The one "credentials may have ended" signal of identity: synchronous listeners,
    called in order (a cache drops itself before the sessions are checked again)."""

    def __init__(self) -> None:
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def fire(self) -> None:
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("a credentials-changed listener failed")


@dataclass(eq=False)
class LiveSession:
    principal: Principal
    recheck: Recheck
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class LiveSessions:
    def __init__(self, changed: CredentialsChanged) -> None:
        self._sessions: set[LiveSession] = set()
        self._sweeping: asyncio.Task[None] | None = None
        self._again = False
        changed.subscribe(self._changed)

    def __len__(self) -> int:
        return len(self._sessions)

    @contextlib.contextmanager
    def watch(self, principal: Principal, recheck: Recheck) -> Iterator[LiveSession]:
        """A session registered while the block runs; its ``ended`` is set when its
        credentials end."""
        session = LiveSession(principal, recheck)
        self._sessions.add(session)
        try:
            yield session
        finally:
            self._sessions.discard(session)

    def _changed(self) -> None:
        if not self._sessions:
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a change made off the loop (a CLI in this process)
            return
        if self._sweeping is not None and not self._sweeping.done():
            self._again = True  # one more sweep after this one: it may predate the change
            return
        self._sweeping = asyncio.create_task(self._sweep(), name="camnet-live-sessions")

    async def _sweep(self) -> None:
        while True:
            self._again = False
            sessions = list(self._sessions)
            # A few at a time: a recheck may verify a password on the small hashing pool.
            limit = asyncio.Semaphore(_CONCURRENT_CHECKS)
            await asyncio.gather(*(self._check(session, limit) for session in sessions))
            if not self._again:
                return

    async def _check(self, session: LiveSession, limit: asyncio.Semaphore) -> None:
        if session.ended.is_set():
            return
        try:
            async with limit:
                now = await session.recheck()
        except Exception:
            log.exception("could not check a live session's credentials again; it stays")
            return
        if now is None or now.permissions != session.principal.permissions:
            log.info("ending a live session of %s: its credentials ended", session.principal.user)
            session.ended.set()


async def until_ended(work: Coroutine[Any, Any, None], ended: asyncio.Event | None) -> bool:
    """Run ``work`` until it finishes or ``ended`` is set (then cancel it). True when the
    credentials ended first."""
    if ended is None:
        await work
        return False
    task = asyncio.ensure_future(work)
    waiter = asyncio.ensure_future(ended.wait())
    try:
        await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()
        if not task.done():
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return ended.is_set()
