"""Three nodes started at the same moment on one empty PostgreSQL database and NATS.

Issue 19, item 1: they used to crash ("Application startup failed") on the first start's
check-then-insert of the users, of the fleet registry's rows and of the fleet's secret.
Each round gets a fresh database and a NATS network of its own; every round, all three
nodes must come up, exactly one of them must show the first-start secrets (the one that
really created the users), and each node must list all three control units online.
"""

from __future__ import annotations

import functools
import time
from pathlib import Path

import pytest

from tests.cluster.harness import (
    ClusterNode,
    cluster_node,
    network_name,
    start_together,
    stop_all,
    wait_until,
)
from tests.outside import require_nats
from tests.postgres import scratch_database
from tests.support import ADMIN_PASSWORD

ROUNDS = 10
NODES = 3


def all_online(node: ClusterNode, machines: list[str]) -> bool:
    devices = node.fleet_devices()
    return all(devices.get(f"{m}-C2", {}).get("is_online") == 1 for m in machines)


def one_round(root: Path, nats: str) -> tuple[float, float]:
    """Seconds until every node served, and until every node listed all online."""
    with scratch_database("camnet_cluster") as db:
        network = network_name()
        nodes = [cluster_node(root, network, nats, db=db) for _ in range(NODES)]
        try:
            begin = time.monotonic()
            failures = start_together(nodes)
            assert not failures, "\n\n".join(failures)
            serving = time.monotonic() - begin
            machines = [node.machine for node in nodes]
            for node in nodes:
                wait_until(
                    functools.partial(all_online, node, machines),
                    what="control units",
                )
            online = time.monotonic() - begin
            shown = [node.machine for node in nodes if node.printed_secrets]
            assert len(shown) == 1, f"first-start secrets shown by {shown}"
            with nodes[0].http() as http:
                assert http.get("/api", auth=("admin", ADMIN_PASSWORD)).status_code == 200
            return serving, online
        finally:
            stop_all(nodes)


@pytest.mark.timeout(600)  # a busy machine: nodes start slower, never hang
def test_three_nodes_started_together_on_an_empty_database(tmp_path: Path) -> None:
    nats = require_nats()
    figures = [one_round(tmp_path / f"round{number}", nats) for number in range(ROUNDS)]
    serving = sorted(f[0] for f in figures)
    online = sorted(f[1] for f in figures)
    print(
        f"{ROUNDS} rounds of {NODES} nodes, 0 crashes; all serving after "
        f"{serving[0]:.1f}-{serving[-1]:.1f} s (median {serving[ROUNDS // 2]:.1f}), "
        f"all devices online everywhere after {online[0]:.1f}-{online[-1]:.1f} s "
        f"(median {online[ROUNDS // 2]:.1f})"
    )
