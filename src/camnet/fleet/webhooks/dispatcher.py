"""Sends what the outbox holds: payload deliveries with retries, and keepalive pings.

Three tasks, woken by the bus's ``Event.*`` announcements (a wake-up only; the journal
is read, never the announcement) and by a short tick so that time-based work (retries,
keepalives) follows the node's clock:

- *fan*: turns new journal events into delivery rows (``outbox.fan_out``);
- *send*: picks due deliveries and POSTs them concurrently (HTTP/1.1 over h11, no redirects, 15 s
  timeout), signed per Standard Webhooks with the webhook's ``data.headers`` and
  ``data.params`` added;
- *record*: commits the outcomes in batches (delivery state and the attempts log).

A delivery is marked delivered only after a 2xx has been committed, so a crash between
sending and committing sends it again with the same ``webhook-id`` (at-least-once;
receivers de-duplicate by that id). A failure holds the webhook back until its retry
time, so a receiver that is down costs one failed request per round, not one per event.

Stopping (graceful shutdown) flushes the outbox state: no new request starts, requests
already sent get ``STOP_GRACE`` seconds to be answered, every outcome is committed, and
the leases of whatever is still unanswered are given back, so the restarted node (or
another node on the same database) sends those at once instead of after the lease.

Requests go through ``transport.KeepAlivePool``: h11 over asyncio streams, keep-alive
connections to the addresses the SSRF guard approved (see that module for why not httpx).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import insert, update

from camnet.bus.base import Bus, Subscription
from camnet.bus.filters import TopicFilter
from camnet.bus.message import MessageType
from camnet.clock import Clock
from camnet.events import EVENT_PREFIX
from camnet.fleet.tables import webhook_attempts, webhook_deliveries, webhooks
from camnet.fleet.webhooks import keepalive, outbox, signing
from camnet.fleet.webhooks.backoff import Backoff, retry_after
from camnet.fleet.webhooks.request import pairs, payload_body, request_target
from camnet.fleet.webhooks.ssrf import Guard, Refused
from camnet.fleet.webhooks.transport import KeepAlivePool, TransportError
from camnet.store.database import Database
from camnet.store.gaps import GapCursor

log = logging.getLogger(__name__)

TICK: Final = 0.25
"""Seconds between looks at due retries when nothing woke the dispatcher (every new
delivery and every recorded outcome wakes it at once)."""
STOP_GRACE: Final = 2.0
"""Seconds a stopping dispatcher waits for requests already sent (their answers are
then committed rather than the deliveries repeated after a restart). Graceful shutdown
has 9.5 s in all (``camnet.shutdown``); a receiver that hangs costs only this."""


@dataclass(frozen=True, slots=True)
class Outcome:
    delivery_id: int | None
    webhook_id: int
    message_id: str | None
    kind: str
    at: float
    outcome: str
    """``delivered``, ``retry``, ``failed`` (given up), ``disabled`` (410), ``ok``/``error``
    for keepalives."""
    response_code: int | None
    latency_ms: float | None
    error: str | None
    next_retry: float | None
    attempts: int


def _reason(exc: Exception) -> str:
    """What an attempt that raised records as its error: the request was not sent."""
    return f"the request cannot be sent: {type(exc).__name__}: {exc}"


class Dispatcher:
    def __init__(
        self,
        database: Database,
        bus: Bus,
        clock: Clock,
        guard: Guard,
        backoff: Backoff,
        *,
        timeout: float = 15.0,
        concurrency: int = 64,
        keepalive_interval: float = 600.0,
        wall: Callable[[], float] = time.time,
        node: str = "camnet",
        gap_settle: float = 10.0,
    ) -> None:
        self._database = database
        self._bus = bus
        self._clock = clock
        self.guard = guard
        self.backoff = backoff
        self._timeout = timeout
        self._concurrency = concurrency
        self.keepalive_interval = keepalive_interval
        self._wall = wall
        self._pool: KeepAlivePool | None = None
        self.node = node
        """Who leases deliveries (the machine name): unique per node on one database."""
        self.cursor = GapCursor(gap_settle)
        self.lease = 2 * timeout + 30.0
        """Seconds a delivery stays leased to this node: a queued request plus one
        attempt; a lease left by a crash expires after it (or at this node's restart)."""
        self._subscription: Subscription | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._fan_wake = asyncio.Event()
        self._send_wake = asyncio.Event()
        self._record_wake = asyncio.Event()
        self._in_flight: set[int] = set()
        self._held: dict[int, float] = {}
        self._outcomes: list[Outcome] = []
        self._unclaim: dict[int, float] = {}
        """Leased deliveries given back unsent (their webhook is held): id -> due time."""
        self._slots = asyncio.Semaphore(concurrency)
        self._attempts: set[asyncio.Task[None]] = set()
        self._stopping = False
        self.delivered = 0

    async def start(self) -> None:
        self._stopping = False
        await self._database.run(
            outbox.release, self._database.engine, self.node, self._clock.now()
        )
        self._pool = KeepAlivePool(timeout=self._timeout, max_idle=self._concurrency)
        self._subscription = self._bus.subscribe(
            TopicFilter(type=MessageType.UPDATE, name=f"{EVENT_PREFIX}.*"), self._on_event
        )
        self._tasks = [
            asyncio.create_task(self._loop(self._fan_wake, self._fan), name="fleet-fan"),
            asyncio.create_task(self._loop(self._send_wake, self._send), name="fleet-send"),
            asyncio.create_task(self._loop(self._record_wake, self._record), name="fleet-rec"),
            asyncio.create_task(self._loop(None, self._keepalive, 1.0), name="fleet-keepalive"),
        ]
        self._fan_wake.set()

    async def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop sending and flush: see the module's docstring. Never raises: a database
        that cannot be written now loses nothing (leases expire, outcomes are retried)."""
        if self._subscription is not None:
            self._subscription.unsubscribe()
            self._subscription = None
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        attempts = set(self._attempts)
        if attempts:
            _, unanswered = await asyncio.wait(attempts, timeout=grace)
            for task in unanswered:
                task.cancel()
            await asyncio.gather(*unanswered, return_exceptions=True)
            if unanswered:
                log.info("webhook dispatcher: %d requests unanswered at stop", len(unanswered))
        try:
            await self._record()
            await self._database.run(
                outbox.release, self._database.engine, self.node, self._clock.now()
            )
        except Exception:
            log.warning("webhook dispatcher: outbox state not flushed at stop", exc_info=True)
        self._in_flight.clear()
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.aclose()

    def _on_event(self, _envelope: Any) -> None:
        self._fan_wake.set()

    def wake(self) -> None:
        """Look at the outbox now (a webhook was created or re-activated)."""
        self._fan_wake.set()
        self._send_wake.set()

    async def _loop(self, wake: asyncio.Event | None, work: Any, tick: float = TICK) -> None:
        while True:
            if wake is None:
                await asyncio.sleep(tick)
            else:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(
                        wake.wait(), tick * 4 if wake is self._fan_wake else tick
                    )
                wake.clear()
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook dispatcher step %s failed", work.__name__)
                await asyncio.sleep(1.0)

    # -- fan ---------------------------------------------------------------------------

    async def _fan(self) -> None:
        while True:
            made, more, self.cursor = await self._database.run(
                outbox.fan_out, self._database.engine, self._clock.now(), self.cursor
            )
            if made:
                self._send_wake.set()
            if not more:
                return

    # -- send --------------------------------------------------------------------------

    async def _send(self) -> None:
        now = self._clock.now()
        for webhook_id, until in list(self._held.items()):
            if until <= now:
                del self._held[webhook_id]
        room = self._concurrency * 2 - len(self._in_flight)
        if room <= 0:
            return
        batch = await self._database.run(
            outbox.due,
            self._database.engine,
            now,
            room,
            set(self._in_flight),
            set(self._held),
            node=self.node,
            lease=self.lease,
        )
        vetted: dict[str, list[str] | str] = {}
        for url in {item.url for item in batch}:
            vetted[url] = await self._vet(url)
        for item in batch:
            if item.webhook_id in self._held:
                self._give_back(item)
                continue
            self._in_flight.add(item.id)
            task = asyncio.create_task(self._attempt(item, vetted[item.url]))
            self._attempts.add(task)
            task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._attempts.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a webhook attempt failed unexpectedly", exc_info=task.exception())

    async def _vet(self, url: str) -> list[str] | str:
        """The addresses the guard allows for ``url``, or why it refuses (a string).
        Checked once per URL per batch of due deliveries, so a backlog to one host
        resolves its name once, not per delivery; every batch checks again."""
        try:
            return await self.guard.check(url)
        except Refused as exc:
            return f"refused: {exc}"

    async def _attempt(self, item: outbox.Due, vetted: list[str] | str) -> None:
        async with self._slots:
            if item.webhook_id in self._held or self._stopping:
                self._in_flight.discard(item.id)
                self._give_back(item)
                return
            code: int | None
            latency: float | None
            error: str | None
            answer: str | None
            try:
                body = payload_body(item)
                headers = dict(pairs(item.data.get("headers")))
                headers.update(
                    signing.headers(item.secret, item.message_id, int(self._wall()), body)
                )
                headers["content-type"] = "application/json"
            except Exception as exc:  # a row that cannot make a request: this attempt fails
                code, latency, error, answer = None, None, _reason(exc), None
            else:
                if isinstance(vetted, list):
                    code, latency, error, answer = await self._request(
                        "POST", item.url, item.data, headers, body, addresses=vetted
                    )
                else:
                    code, latency, error, answer = None, None, vetted, None
        now = self._clock.now()
        attempts = item.attempts + 1
        next_retry: float | None = None
        if code is not None and 200 <= code < 300:
            outcome = "delivered"
        elif code == 410:
            outcome = "disabled"
        else:
            asked = retry_after(answer, self._wall()) if code in (429, 503) else None
            if asked is None and self.backoff.gives_up(attempts):
                outcome = "failed"
            else:
                outcome = "retry"
                delay = self.backoff.delay(attempts) if asked is None else asked
                next_retry = now + min(delay, self.backoff.ceiling)
                self._held[item.webhook_id] = max(self._held.get(item.webhook_id, 0), next_retry)
        self._outcomes.append(
            Outcome(
                item.id,
                item.webhook_id,
                item.message_id,
                "payload",
                now,
                outcome,
                code,
                latency,
                error,
                next_retry,
                attempts,
            )
        )
        self._record_wake.set()

    async def _request(
        self,
        method: str,
        url: str,
        data: dict[str, Any],
        headers: dict[str, str],
        body: bytes | None,
        params: list[tuple[str, str]] | None = None,
        *,
        addresses: list[str] | None = None,
    ) -> tuple[int | None, float | None, str | None, str | None]:
        """(status, latency ms, error, Retry-After) of one request; never raises.
        ``addresses``: what the SSRF guard has just approved for ``url`` (None: ask it
        now). The connection goes to one of those addresses, never to a fresh lookup."""
        assert self._pool is not None, "the dispatcher is not started"
        started = time.monotonic()
        try:
            if addresses is None:
                addresses = await self.guard.check(url)
            destination, target = request_target(
                url, addresses, [*(params or []), *pairs(data.get("params"))]
            )
            response = await self._pool.request(
                method, destination, target, list(headers.items()), body
            )
        except Refused as exc:
            return None, None, f"refused: {exc}", None
        except TransportError as exc:
            latency = (time.monotonic() - started) * 1000
            return None, latency, str(exc), None
        except ValueError as exc:  # UnicodeError included: a URL that cannot be sent
            return None, None, f"the URL cannot be sent: {exc}", None
        except Exception as exc:  # h11's LocalProtocolError (a header it will not send)...
            return None, None, _reason(exc), None
        latency = (time.monotonic() - started) * 1000
        return response.status, latency, None, response.headers.get("retry-after")

    # -- record ------------------------------------------------------------------------

    def _give_back(self, item: outbox.Due) -> None:
        """Return an unsent lease: the delivery is due when its webhook's hold ends."""
        self._unclaim[item.id] = self._held.get(item.webhook_id, self._clock.now())
        self._record_wake.set()

    async def _record(self) -> None:
        batch, self._outcomes = self._outcomes, []
        unclaim, self._unclaim = self._unclaim, {}
        if not batch and not unclaim:
            return
        try:
            await self._database.run(self._commit, batch, unclaim)
        except BaseException:
            self._outcomes[:0] = batch
            self._unclaim = {**unclaim, **self._unclaim}
            raise
        for outcome in batch:
            if outcome.delivery_id is not None:
                self._in_flight.discard(outcome.delivery_id)
            if outcome.outcome == "delivered":
                self.delivered += 1
        self._send_wake.set()

    def _commit(self, batch: list[Outcome], unclaim: dict[int, float]) -> None:
        d = webhook_deliveries
        with self._database.engine.begin() as connection:
            for delivery_id, at in unclaim.items():
                connection.execute(
                    update(d)
                    .where(d.c.id == delivery_id, d.c.claimed_by == self.node)
                    .values(claimed_by=None, next_attempt_at=at)
                )
            if not batch:
                return
            connection.execute(
                insert(webhook_attempts),
                [
                    {
                        "webhook_id": o.webhook_id,
                        "delivery_id": o.delivery_id,
                        "message_id": o.message_id,
                        "kind": o.kind,
                        "at": o.at,
                        "outcome": o.outcome,
                        "response_code": o.response_code,
                        "latency_ms": o.latency_ms,
                        "error": o.error,
                        "next_retry": o.next_retry,
                    }
                    for o in batch
                ],
            )
            for o in batch:
                if o.outcome == "disabled":
                    connection.execute(
                        update(webhooks)
                        .where(webhooks.c.id == o.webhook_id)
                        .values(status=0, disabled_reason="the receiver answered 410 Gone")
                    )
                if o.delivery_id is None:
                    continue
                state = {"delivered": "delivered", "retry": "pending"}.get(o.outcome, "failed")
                values: dict[str, Any] = {
                    "state": state,
                    "attempts": o.attempts,
                    "claimed_by": None,
                }
                if o.next_retry is not None:
                    values["next_attempt_at"] = o.next_retry
                connection.execute(update(d).where(d.c.id == o.delivery_id).values(**values))

    # -- keepalive ---------------------------------------------------------------------

    async def _keepalive(self) -> None:
        now = self._clock.now()
        hooks = await self._database.run(
            keepalive.claim, self._database.engine, now, self.keepalive_interval
        )
        for hook_id, url, data, targets in hooks:
            for device_uuid in targets:
                code: int | None
                latency: float | None
                error: str | None
                try:
                    headers = dict(pairs(data.get("headers")))
                except Exception as exc:  # a row that cannot make a request
                    code, latency, error = None, None, _reason(exc)
                else:
                    code, latency, error, _ = await self._request(
                        "GET",
                        url,
                        data,
                        headers,
                        None,
                        params=[("source", "camnet"), ("id", device_uuid)],
                    )
                ok = code is not None and 200 <= code < 300
                outcome = "disabled" if code == 410 else ("ok" if ok else "error")
                self._outcomes.append(
                    Outcome(
                        None,
                        hook_id,
                        None,
                        "keepalive",
                        now,
                        outcome,
                        code,
                        latency,
                        error,
                        None,
                        1,
                    )
                )
                self._record_wake.set()
