"""camnet's signatures checked by the independent ``standardwebhooks`` package, and the
backoff arithmetic."""

from __future__ import annotations

import random

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from camnet.fleet.webhooks import signing
from camnet.fleet.webhooks.backoff import Backoff, retry_after


def test_signature_verifies_with_standardwebhooks() -> None:
    secret = signing.new_secret()
    body = b'{"type":"state"}'
    import time

    now = int(time.time())
    headers = signing.headers(secret, "msg_1_2", now, body)
    assert Webhook(secret).verify(body, headers) == {"type": "state"}
    with pytest.raises(WebhookVerificationError):
        Webhook(signing.new_secret()).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, {**headers, "webhook-id": "msg_other"})


def test_backoff_doubles_with_jitter_and_caps() -> None:
    backoff = Backoff(base=5, ceiling=60, max_attempts=4, rng=random.Random(1))
    for attempt, full in [(1, 5), (2, 10), (3, 20), (4, 40), (9, 60)]:
        delays = [backoff.delay(attempt) for _ in range(50)]
        assert all(full / 2 <= d <= full for d in delays)
        assert len(set(delays)) > 1
    assert not backoff.gives_up(3)
    assert backoff.gives_up(4)


def test_retry_after_seconds_and_dates() -> None:
    assert retry_after("40", 0) == 40
    assert retry_after(None, 0) is None
    assert retry_after("soon", 0) is None
    assert retry_after("Thu, 01 Jan 1970 00:01:40 GMT", 40.0) == 60.0
