"""Issue 17 item 3, the tarpit, against a real server: a guessing address's refusal is
held (so each of its connections gets about one answer per ``token_failure_hold``),
while a user on another address is answered at once, in its dialect as before."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from camnet.identity.permissions import Role
from camnet.identity.throttle import CredentialThrottle
from camnet.identity.users import UserRepository
from camnet.store.database import Database
from tests.identity.helpers import basic
from tests.inprocess import InProcessServer, inprocess_server

HOLD = 2.0
"""Long enough that an answer held and one given at once cannot be confused."""
OTHER_ADDRESS = "127.0.0.2"  # the loopback network is all of 127/8 on Linux
USER, PASSWORD = "tarpit-user", "tarpit-password-1"


def _throttle(server: InProcessServer) -> CredentialThrottle:
    throttle: CredentialThrottle = server.app.state.node.identity.passwords.throttle
    return throttle


def _from(server: InProcessServer, address: str) -> httpx.Client:
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=server.url, timeout=30.0, transport=transport)


def _c2_get(http: httpx.Client, user: str, password: str) -> httpx.Response:
    return http.get("/api", params={"get": "[light0]"}, headers=basic(user, password))


class Held:
    """One request sent on its own thread, so the test can act while it is held."""

    def __init__(self, send: Callable[[], httpx.Response]) -> None:
        self.response: httpx.Response | None = None
        self.elapsed = 0.0
        self._thread = threading.Thread(target=self._run, args=(send,), daemon=True)
        self._thread.start()

    def _run(self, send: Callable[[], httpx.Response]) -> None:
        started = time.monotonic()
        self.response = send()
        self.elapsed = time.monotonic() - started

    def done(self) -> bool:
        return not self._thread.is_alive()

    def result(self) -> httpx.Response:
        self._thread.join(30)
        assert self.response is not None
        return self.response


def _wait_until_held(throttle: CredentialThrottle, count: int = 1) -> None:
    """Until the server holds ``count`` refusals (polling the server's own counter)."""
    deadline = time.monotonic() + 10
    while throttle.holding < count:
        assert time.monotonic() < deadline, "the refusal was never held"
        time.sleep(0.005)


def test_a_guessers_refusal_is_held_while_another_address_signs_in_at_once(
    tmp_path: Path,
) -> None:
    with (
        inprocess_server(tmp_path, token_failures_per_minute=1, token_failure_hold=HOLD) as server,
        server.client() as guesser,
        _from(server, OTHER_ADDRESS) as other,
    ):
        throttle = _throttle(server)
        started = time.monotonic()  # the address's budget for this minute, spent
        assert _c2_get(guesser, "nobody", "wrong").status_code == 401
        assert time.monotonic() - started < HOLD / 2  # a first failure is not paced
        held = Held(lambda: _c2_get(guesser, "admin", server.admin_password))
        _wait_until_held(throttle)

        started = time.monotonic()
        answered = _c2_get(other, "admin", server.admin_password)
        assert answered.status_code == 200, answered.text
        assert time.monotonic() - started < HOLD / 2
        assert not held.done()  # the guesser is still waiting for its refusal

        refused = held.result()
        assert held.elapsed >= HOLD - 0.05
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["error"]["code"] == "throttled"  # c2's own error body
        assert throttle.holding == 0


def test_a_name_locked_by_a_guesser_is_refused_at_once_to_a_clean_address(
    tmp_path: Path,
) -> None:
    """An attacker can lock a name out; that refuses its owner too (the name must
    wait), but the owner, having failed nothing, is told at once, never held."""
    database = Database.open_sqlite(tmp_path / "camnet.sqlite3")
    try:
        UserRepository(database.engine).create(USER, Role.OPERATOR, PASSWORD)
    finally:
        database.close()
    with (
        inprocess_server(
            tmp_path,
            token_failures_before_backoff=1,
            token_failures_per_minute=1000,
            token_failure_hold=HOLD,
        ) as server,
        server.client() as guesser,
        _from(server, OTHER_ADDRESS) as owner,
    ):
        throttle = _throttle(server)
        for n in range(2):  # the second failure locks USER out for 1 s (and is paced)
            assert _c2_get(guesser, USER, f"guess-{n}").status_code == 401

        started = time.monotonic()
        refused = _c2_get(owner, USER, PASSWORD)
        assert refused.status_code == 429, refused.text
        assert time.monotonic() - started < HOLD / 2
        assert throttle.holding == 0

        held = Held(lambda: _c2_get(guesser, USER, "guess-2"))
        _wait_until_held(throttle)
        assert held.result().status_code == 429
        assert held.elapsed >= 1.0 - 0.05  # held for the lock-out's Retry-After (1 s)
