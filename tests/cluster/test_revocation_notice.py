"""A token revoked on one node is refused on another at once, by a NATS notice, not by
a poll of the token table (issue 19, item 7).

The running network's nodes poll only every 600 s (``identity_poll_nats``), so only the
notice can make B refuse the token within the test's deadline; the time is printed.
"""

from __future__ import annotations

import time

import pytest

from tests.cluster.conftest import RunningNetwork
from tests.cluster.harness import wait_until
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
        wait_until(
            lambda: on_b.get("/api/v1/devices", headers=bearer(token)).status_code == 401,
            what="B to refuse the token revoked on A",
        )
        took = time.monotonic() - start
    print(f"revoked on A, refused on B after {took * 1000:.0f} ms")
