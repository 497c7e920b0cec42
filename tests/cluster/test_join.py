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
import time
from pathlib import Path

import pytest

from camnet.devices.stereo.mxid import default_stereo_mxid
from tests.cluster.conftest import RunningNetwork
from tests.cluster.harness import ClusterNode, cluster_node, wait_until

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


@pytest.mark.timeout(600)  # a busy machine: nodes start slower, never hang
def test_a_node_joining_a_running_network(running_network: RunningNetwork, tmp_path: Path) -> None:
    running, network, db = running_network.nodes, running_network.name, running_network.db
    base_devices = [name for node in running for name in devices_of(node, False)]
    figures: list[tuple[float, float]] = []
    for number in range(ROUNDS):
        joiner = cluster_node(
            tmp_path / f"join{number}", network, running_network.nats, db=db, stereo=True
        )
        try:
            begin = time.monotonic()
            joiner.process.start(60)
            started = time.monotonic() - begin
            devices = [*base_devices, *devices_of(joiner, True)]
            for viewer in [*running, joiner]:
                wait_until(
                    functools.partial(everything_online, viewer, devices),
                    what=f"round {number}: every device online on {viewer.machine}",
                )
            figures.append((started, time.monotonic() - begin))
        finally:
            joiner.process.stop()
        failed = [line for line in joiner.process.output if FAILED_LISTING in line]
        assert not failed, failed
    for node in running:
        failed = [line for line in node.process.output if FAILED_LISTING in line]
        assert not failed, failed
    serving = sorted(f[0] for f in figures)
    online = sorted(f[1] for f in figures)
    print(
        f"{ROUNDS} joins, 0 crashes; joiner serving after {serving[0]:.1f}-{serving[-1]:.1f} s "
        f"(median {serving[ROUNDS // 2]:.1f}), every device online on every node after "
        f"{online[0]:.1f}-{online[-1]:.1f} s (median {online[ROUNDS // 2]:.1f})"
    )
