"""Fixtures shared by every test: real servers on loopback ports; and the order in which
the modules are handed out when the suite runs on several processes (docs/testing.md)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess

SLOW_FIRST = (
    "tests/cluster/test_start_together.py",
    "tests/test_cli_manage.py",
    "tests/ops/test_faults.py",
    "tests/system/test_readme.py",
    "tests/identity/test_credential_throttle.py",
    "tests/ops/test_shutdown_outbox.py",
    "tests/cluster/test_join.py",
    "tests/cluster/test_revocation_notice.py",
    "tests/ops/test_schemathesis.py",
    "tests/recording/test_manual.py",
    "tests/ui/test_device_page.py",
    "tests/network/integration/test_presence_and_restarts.py",
    "tests/ui/test_dashboard.py",
    "tests/system/test_deploy.py",
    "tests/test_docs_examples.py",
    "tests/fleet/test_durability.py",
    "tests/test_persistence.py",
)
"""The modules that took longest (``--durations``, docs/testing.md), longest first.

``make test`` hands whole modules to its worker processes in collection order
(``--dist loadfile --no-loadscope-reorder``); a long module handed out last would run
alone at the end while the other worker idles. Only the order changes: every test runs,
each module's tests stay together and in their own order. A module missing here only
costs time."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {module: position for position, module in enumerate(SLOW_FIRST)}
    position = {id(item): index for index, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[int, int]:
        module = item.nodeid.split("::", 1)[0]
        return rank.get(module, len(SLOW_FIRST)), position[id(item)]

    items.sort(key=key)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per test module, with default settings."""
    process = ServerProcess(tmp_path_factory.mktemp("camnet-data")).start()
    yield process
    process.stop()


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[ServerProcess]:
    """A server of its own, for tests that restart or reconfigure it."""
    process = ServerProcess(tmp_path / "data")
    yield process
    process.stop()
