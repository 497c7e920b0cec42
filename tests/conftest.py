"""Fixtures shared by every test: real servers on loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import ServerProcess


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
