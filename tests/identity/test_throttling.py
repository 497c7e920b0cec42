"""The token endpoints slow a brute force down: a budget per source address and per
client each minute, and a growing lock-out after a few failed sign-ins."""

from __future__ import annotations

from pathlib import Path

from camnet.identity.permissions import Role
from tests.identity.helpers import seed_records, token_request
from tests.inprocess import inprocess_server

APP = ("owner.app", "app-secret-0123")
HOLD = 0.05
"""The tarpit's hold, short: these tests are about the budgets (the tarpit: test_tarpit.py)."""


def test_password_guessing_is_locked_out_with_growing_waits(tmp_path: Path) -> None:
    seed_records(
        tmp_path,
        users=(("test", "test-user", "itsasecret", Role.OPERATOR),),
        clients=(("owner", "app", APP[1], ("password",)),),
    )
    with (
        inprocess_server(
            tmp_path,
            token_requests_per_minute=1000,
            token_failures_before_backoff=3,
            token_failure_hold=HOLD,
        ) as server,
        server.client() as http,
    ):

        def guess(password: str) -> tuple[int, str]:
            response = token_request(
                http, APP, grant_type="password", username="test\\test-user", password=password
            )
            return response.status_code, response.headers.get("retry-after", "")

        assert [guess(f"guess-{n}")[0] for n in range(3)] == [400, 400, 400]
        assert guess("guess-3") == (400, "")  # the 4th failure starts a 1 s lock-out
        assert guess("itsasecret") == (429, "1")  # even the right password waits
        server.clock.advance(1.1)
        assert guess("guess-4") == (400, "")  # 5th failure: 2 s
        status, retry_after = guess("guess-5")
        assert (status, retry_after) == (429, "2")
        server.clock.advance(2.1)
        assert guess("itsasecret")[0] == 200
        # Another username is not locked out by test-user's failures.
        other = token_request(http, APP, grant_type="password", username="test\\x", password="y")
        assert other.status_code == 400


def test_failures_per_address_are_budgeted(tmp_path: Path) -> None:
    seed_records(tmp_path, clients=(("owner", "app", APP[1], ("password",)),))
    with (
        inprocess_server(tmp_path, token_failures_per_minute=4, token_failure_hold=HOLD) as server,
        server.client() as http,
    ):
        statuses = [
            token_request(
                http, APP, grant_type="password", username=f"test\\user{n}", password="x"
            ).status_code
            for n in range(5)
        ]
        assert statuses == [400, 400, 400, 400, 429]
        refused = token_request(
            http, APP, grant_type="password", username="test\\test-user", password="itsasecret"
        )
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        server.clock.advance(60)
        wrong_secret = token_request(http, ("owner.app", "nope"), grant_type="password",
                                     username="test\\a", password="b")  # fmt: skip
        assert wrong_secret.status_code == 401


def test_per_address_budget(tmp_path: Path) -> None:
    seed_records(tmp_path, clients=(("owner", "app", APP[1], ("client_credentials",)),))
    with (
        inprocess_server(tmp_path, token_requests_per_minute=5, token_failure_hold=HOLD) as server,
        server.client() as http,
    ):
        statuses = [
            token_request(http, APP, grant_type="client_credentials").status_code for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]
        refused = token_request(http, APP, grant_type="client_credentials")
        assert refused.json()["statusCode"] == 429
        assert int(refused.headers["retry-after"]) >= 1
        server.clock.advance(60)
        assert token_request(http, APP, grant_type="client_credentials").status_code == 200
