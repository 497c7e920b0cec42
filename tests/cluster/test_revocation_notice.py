"""A token revoked on one node is refused on another at once, by a NATS notice, not by
a poll of the token table (issue 19, item 7).

With NATS the nodes' identity watchers poll only every ``NATS_POLL`` (5) seconds, as a
safety net; the notice is what makes B refuse A's revocation well within that.
"""

from __future__ import annotations

import time

import pytest

from camnet.identity.changes import NATS_POLL
from tests.cluster.conftest import RunningNetwork
from tests.fleet.helpers import ADMIN_EMAIL, bearer, login
from tests.identity.helpers import basic
from tests.support import ADMIN_PASSWORD


@pytest.mark.timeout(300)  # a busy machine: nodes start slower, never hang
def test_a_revocation_on_a_is_refused_on_b_before_any_poll(
    running_network: RunningNetwork,
) -> None:
    a, b = running_network.nodes
    with a.http() as on_a, b.http() as on_b:
        token = login(on_a, ADMIN_EMAIL, ADMIN_PASSWORD)["access_token"]
        assert on_b.get("/api/v1/devices", headers=bearer(token)).status_code == 200
        revoked = on_a.post(
            "/oauth/revoke", data={"token": token}, headers=basic("admin", ADMIN_PASSWORD)
        )
        assert revoked.status_code == 200, revoked.text
        start = time.monotonic()
        while on_b.get("/api/v1/devices", headers=bearer(token)).status_code == 200:
            assert time.monotonic() - start < NATS_POLL, "B still accepts the token"
            time.sleep(0.02)
        took = time.monotonic() - start
    print(f"revoked on A, refused on B after {took * 1000:.0f} ms")
