"""Three nodes started at the same moment on one empty PostgreSQL database and NATS.

Issue 19, item 1: they used to crash ("Application startup failed") on the first start's
check-then-insert of the users, of the fleet registry's rows and of the fleet's secret.
Each round gets a fresh database and a NATS network of its own; every round, all three
nodes must come up, exactly one of them must show the first-start secrets (the one that
really created the users), and each node must list all three control units online.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.cluster.harness import (
    WAIT,
    ClusterNode,
    cluster_node,
    network_name,
    start_together,
    stop_all,
)
from tests.fleet.helpers import wait_until
from tests.outside import require_nats
from tests.postgres import scratch_database
from tests.support import ADMIN_PASSWORD

ROUNDS = 10
NODES = 3


def all_online(node: ClusterNode, machines: list[str]) -> bool:
    devices = node.fleet_devices()
    return all(devices.get(f"{m}-C2", {}).get("is_online") == 1 for m in machines)


def one_round(root: Path, nats: str) -> None:
    with scratch_database("camnet_cluster") as db:
        network = network_name()
        nodes = [cluster_node(root, network, nats, db=db) for _ in range(NODES)]
        try:
            failures = start_together(nodes)
            assert not failures, "\n\n".join(failures)
            machines = [node.machine for node in nodes]
            for node in nodes:
                wait_until(
                    functools.partial(all_online, node, machines),
                    what="control units",
                    timeout=WAIT,
                )
            shown = [node.machine for node in nodes if node.printed_secrets]
            assert len(shown) == 1, f"first-start secrets shown by {shown}"
            with nodes[0].http() as http:
                assert http.get("/api", auth=("admin", ADMIN_PASSWORD)).status_code == 200
        finally:
            stop_all(nodes)


@pytest.mark.timeout(600)  # a busy machine: nodes start slower, never hang
def test_three_nodes_started_together_on_an_empty_database(tmp_path: Path) -> None:
    nats = require_nats()
    for number in range(ROUNDS):
        one_round(tmp_path / f"round{number}", nats)
