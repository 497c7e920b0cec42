"""429 as :class:`RateLimited`, with the server's ``Retry-After``, on a server of its own
with a small per-minute budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from camnet.client import ApiKey, Client, RateLimited
from tests.client.helpers import accepts_key, camnet, wait_until
from tests.support import ServerProcess


def test_rate_limited_carries_retry_after(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"CAMNET_RATE_LIMIT_PER_MINUTE": "20"}).start()
    try:
        key = camnet("apikey", "add", "limited", "--role", "admin", data_dir=server.data_dir)["key"]
        assert isinstance(key, str)
        wait_until(lambda: accepts_key(server.url, key), "the key to be known")
        with Client(server.url, ApiKey(key)) as client:
            # 20 a minute; the minute may turn once meanwhile, so up to 60 requests.
            with pytest.raises(RateLimited) as limited:  # noqa: PT012
                for _ in range(60):
                    client.get("record")
            assert limited.value.status == 429
            assert limited.value.dialect == "c2"
            assert limited.value.retry_after is not None
            assert 0 < limited.value.retry_after <= 60
    finally:
        server.stop()
