"""Shared helpers of the recording tests: waiting, the event journal, decoding files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import av
import httpx

from camnet.events import StoredEvent, events_after
from camnet.store.database import Database


def wait_for(condition: Callable[[], Any], timeout: float = 20.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def journal(data_dir: Path) -> list[StoredEvent]:
    database = Database.open_sqlite(data_dir / "camnet.sqlite3")
    try:
        with database.engine.connect() as connection:
            return events_after(connection, 0, 100_000)
    finally:
        database.close()


def decoded_frames(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def state(client: httpx.Client, *names: str) -> dict[str, Any]:
    response = client.get("/api", params={"get": "[" + ",".join(names) + "]"})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
