"""One server per test module of the SDK and CLI tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.client.helpers import Setup, start


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    prepared = start(tmp_path_factory.mktemp("camnet-sdk"))
    yield prepared
    prepared.server.stop()
