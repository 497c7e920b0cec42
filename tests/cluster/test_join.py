"""A node joining a running network: it starts, and every node lists every device online.

Issue 19, item 1: a joining node crashed once in three (its fleet registry row had been
inserted by the other nodes, which list its devices as soon as they hear of it), and a
node that lost such a race showed the device offline until restart. Each round a new
node (with its own stereo camera, whose mxid comes from its machine name, item 8) joins
two running nodes on one PostgreSQL database; then every running node's fleet list and
``/services`` show every running device online, and no node logged a failed listing.
"""

from __future__ import annotations

import functools
from pathlib import Path

from camnet.settings import default_stereo_mxid
from tests.cluster.harness import (
    ClusterNode,
    cluster_node,
    network_name,
    start_together,
    stop_all,
)
from tests.fleet.helpers import wait_until
from tests.outside import require_nats
from tests.postgres import scratch_database

ROUNDS = 10
FAILED_LISTING = "listener of remote device"


def devices_of(node: ClusterNode, stereo: bool) -> list[str]:
    names = [node.c2]
    if stereo:
        names.append(f"{node.machine}-Stereo{default_stereo_mxid(node.machine)}")
    return names


def everything_online(viewer: ClusterNode, devices: list[str]) -> bool:
    fleet = viewer.fleet_devices()
    services = viewer.services()
    return all(
        fleet.get(name, {}).get("is_online") == 1 and services.get(name, {}).get("online") is True
        for name in devices
    )


def test_a_node_joining_a_running_network(tmp_path: Path) -> None:
    nats = require_nats()
    with scratch_database("camnet_cluster") as db:
        network = network_name()
        running = [cluster_node(tmp_path / "base", network, nats, db=db) for _ in range(2)]
        try:
            assert not start_together(running)
            base_devices = [name for node in running for name in devices_of(node, False)]
            for number in range(ROUNDS):
                joiner = cluster_node(tmp_path / f"join{number}", network, nats, db=db, stereo=True)
                try:
                    joiner.process.start(60)
                    devices = [*base_devices, *devices_of(joiner, True)]
                    for viewer in [*running, joiner]:
                        wait_until(
                            functools.partial(everything_online, viewer, devices),
                            what=f"round {number}: every device online on {viewer.machine}",
                        )
                finally:
                    joiner.process.stop()
                failed = [line for line in joiner.process.output if FAILED_LISTING in line]
                assert not failed, failed
            for node in running:
                failed = [line for line in node.process.output if FAILED_LISTING in line]
                assert not failed, failed
        finally:
            stop_all(running)
