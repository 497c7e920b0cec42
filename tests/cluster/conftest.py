"""One running network of two nodes (NATS and a PostgreSQL database of their own),
shared by the tests of this package that need a network already up."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.cluster.harness import ClusterNode, cluster_node, network_name, start_together, stop_all
from tests.outside import require_nats
from tests.postgres import scratch_database


@dataclass(frozen=True)
class RunningNetwork:
    nats: str
    db: str
    name: str
    nodes: list[ClusterNode]


@pytest.fixture(scope="package")
def running_network(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNetwork]:
    nats = require_nats()
    root = tmp_path_factory.mktemp("cluster")
    with scratch_database("camnet_cluster") as db:
        name = network_name()
        # The identity watchers' safety-net poll is made long, so that only the NATS
        # notice can make a revocation on one node count on the other within the test.
        slow_poll = "identity_poll_nats = 600\n"
        nodes = [cluster_node(root, name, nats, db=db, extra=slow_poll) for _ in range(2)]
        try:
            failures = start_together(nodes)
            assert not failures, "\n\n".join(failures)
            yield RunningNetwork(nats, db, name, nodes)
        finally:
            stop_all(nodes)
