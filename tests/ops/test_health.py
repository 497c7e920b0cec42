"""``/healthz`` and ``/readyz`` through a real server: open, and ``/readyz`` names what
failed (here: a storage made read-only)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.inprocess import InProcessServer, inprocess_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    with inprocess_server(tmp_path_factory.mktemp("health")) as running:
        yield running


def test_healthz_is_open_and_alive(server: InProcessServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


def test_readyz_reports_each_check(server: InProcessServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        response = http.get("/readyz")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "ready"
    assert body["failed"] == []
    assert body["informational"] == [], "no MQTT bridge here: no informational check"
    assert body["checks"]["database"] == "ok"
    assert body["checks"]["bus"] == "ok"
    assert any(name.startswith("storage ") for name in body["checks"])


def test_readyz_names_a_storage_that_cannot_be_written(server: InProcessServer) -> None:
    # A file where the storage directory should be: nothing can be written there (this
    # holds for root too, unlike a read-only mode).
    storage = server.data_dir / "storage"
    assert storage.is_dir()
    aside = storage.with_name("storage-aside")
    storage.rename(aside)
    storage.write_bytes(b"not a directory")
    try:
        with httpx.Client(base_url=server.url) as http:
            response = http.get("/readyz")
    finally:
        storage.unlink()
        aside.rename(storage)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not ready"
    assert body["failed"] == [f"storage {storage}"]
    assert body["checks"][f"storage {storage}"].startswith("NotADirectoryError")
    assert body["checks"]["database"] == "ok"
    with httpx.Client(base_url=server.url) as http:
        assert http.get("/readyz").status_code == 200


def test_healthz_answers_head(server: InProcessServer) -> None:
    with httpx.Client(base_url=server.url) as http:
        assert http.head("/healthz").status_code == 200
