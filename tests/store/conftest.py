"""A PostgreSQL database per test module (fresh schema), or a skip with the reason."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres import scratch_database


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with scratch_database() as url:
        yield url
