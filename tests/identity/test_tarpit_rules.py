"""The tarpit's rules, on an injected clock and sleep: which refusals the credential
throttle holds, for how long, and what bounds the holding (``identity/throttle.py``)."""

from __future__ import annotations

import asyncio

import pytest

from camnet.clock import ManualClock
from camnet.identity import throttle as throttle_module
from camnet.identity.throttle import CredentialThrottle, Throttled, user_key

GUESSER, OTHER = "192.0.2.1", "192.0.2.2"


class Sleeps:
    """Records each hold instead of waiting; ``gate`` (when set) keeps holds open, and
    ``all_held`` is set when ``expected`` holds are open."""

    def __init__(self, expected: int = 0) -> None:
        self.seconds: list[float] = []
        self.gate: asyncio.Event | None = None
        self.expected = expected
        self.all_held = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)
        if len(self.seconds) == self.expected:
            self.all_held.set()
        if self.gate is not None:
            await self.gate.wait()


def _throttle(sleeps: Sleeps, *, hold: float = 1.0, per_minute: int = 2) -> CredentialThrottle:
    return CredentialThrottle(
        ManualClock(start=1_700_000_000.0),
        failures_before_backoff=2,
        failures_per_minute=per_minute,
        hold=hold,
        sleep=sleeps,
    )


async def _refused(throttle: CredentialThrottle, address: str, *keys: object) -> Throttled:
    with pytest.raises(Throttled) as refused:
        await throttle.admit(address, *keys)
    return refused.value


def test_an_address_over_its_budget_is_held_and_another_is_not() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        throttle = _throttle(sleeps)
        throttle.failed(GUESSER)
        throttle.failed(GUESSER)
        refused = await _refused(throttle, GUESSER)
        assert sleeps.seconds == [1.0]
        assert refused.held
        assert refused.retry_after >= 1
        await throttle.admit(OTHER)  # another address is answered, and not held
        assert sleeps.seconds == [1.0]

    asyncio.run(scenario())


def test_a_locked_name_holds_its_guesser_but_not_a_clean_address() -> None:
    """An attacker locks ``admin`` out; the real admin, on an address with no failure,
    is refused too (the name must wait) but at once: only guessers are held."""

    async def scenario() -> None:
        sleeps = Sleeps()
        throttle = _throttle(sleeps, per_minute=1000)
        admin = user_key("admin")
        for _ in range(3):
            throttle.failed(GUESSER, admin)
        await _refused(throttle, OTHER, admin)
        assert sleeps.seconds == []
        await _refused(throttle, GUESSER, admin)
        assert sleeps.seconds == [1.0]

    asyncio.run(scenario())


def test_one_check_at_a_time_per_address_and_a_bounded_queue(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """However many connections one address opens, its checks take turns (one hashing
    thread at most); past the queue one more is refused, and held as a guesser's."""
    monkeypatch.setattr(throttle_module, "TURN_QUEUE", 1)

    async def scenario() -> None:
        sleeps = Sleeps()
        throttle = _throttle(sleeps)
        inside: list[str] = []
        release = asyncio.Event()

        async def check(name: str) -> None:
            async with throttle.turn(GUESSER):
                inside.append(name)
                await release.wait()

        first = asyncio.create_task(check("first"))
        second = asyncio.create_task(check("second"))
        await asyncio.sleep(0)
        assert inside == ["first"]  # the second waits its turn
        with pytest.raises(Throttled):
            await check("third")  # two in flight already: refused, and held
        assert sleeps.seconds == [1.0]
        async with throttle.turn(OTHER):
            inside.append("other")  # another address does not wait for this one's
        release.set()
        await asyncio.gather(first, second)
        assert inside == ["first", "other", "second"]

    asyncio.run(scenario())


def test_the_hold_is_at_most_the_retry_after_and_zero_turns_it_off() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        long_hold = _throttle(sleeps, hold=5.0)
        long_hold.failed(GUESSER)
        await long_hold.hold(GUESSER, Throttled(2, "wait"))
        assert sleeps.seconds == [2.0]
        off = _throttle(sleeps, hold=0.0)
        off.failed(GUESSER)
        off.failed(GUESSER)
        await _refused(off, GUESSER)
        assert sleeps.seconds == [2.0]

    asyncio.run(scenario())


def test_a_refusal_is_held_once_on_its_way_through_the_layers() -> None:
    async def scenario() -> None:
        sleeps = Sleeps()
        throttle = _throttle(sleeps)
        throttle.failed(GUESSER)
        throttle.failed(GUESSER)
        refused = await _refused(throttle, GUESSER)
        await throttle.hold(GUESSER, refused)  # the face's own catch: already held
        assert sleeps.seconds == [1.0]

    asyncio.run(scenario())


def test_no_more_than_max_held_are_held_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past ``MAX_HELD`` open holds a refusal is answered at once: holding can never
    be made to keep connections without bound (RTSP has no connection cap of its own)."""
    monkeypatch.setattr(throttle_module, "MAX_HELD", 3)

    async def scenario() -> None:
        sleeps = Sleeps(expected=3)
        sleeps.gate = asyncio.Event()
        throttle = _throttle(sleeps)
        throttle.failed(GUESSER)
        throttle.failed(GUESSER)
        holds = [asyncio.create_task(_refused(throttle, GUESSER)) for _ in range(3)]
        await sleeps.all_held.wait()
        assert throttle.holding == 3
        extra = await _refused(throttle, GUESSER)  # answered without waiting
        assert extra.held
        assert len(sleeps.seconds) == 3
        sleeps.gate.set()
        await asyncio.gather(*holds)
        assert throttle.holding == 0

    asyncio.run(scenario())


def test_from_an_addresss_second_failure_on_its_answers_are_paced() -> None:
    """One typo is answered at once; a guesser's next failures each wait ``hold``
    (inside its turn), so one address costs at most one hash per ``hold``."""

    async def scenario() -> None:
        sleeps = Sleeps()
        throttle = _throttle(sleeps, per_minute=30)
        throttle.failed(GUESSER)
        await throttle.pace(GUESSER)
        assert sleeps.seconds == []
        throttle.failed(GUESSER)
        await throttle.pace(GUESSER)
        assert sleeps.seconds == [1.0]
        await throttle.pace(OTHER)  # no failure from OTHER: no wait
        assert sleeps.seconds == [1.0]

    asyncio.run(scenario())
