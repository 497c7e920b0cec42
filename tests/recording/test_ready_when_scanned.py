"""Ready only when true: the first answer a client gets already has the storages scanned.

A client polls the port from before the process starts (as a service manager or a
script started with the server does) and acts on its very first answer: the storage list
is there on a first start, shows the new quota after a restart with another
``storage_quota_bytes``, and selecting a storage by uuid works at once.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support import ServerProcess


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class FirstAnswer:
    """Sends ``request`` to the port again and again until the first HTTP answer."""

    def __init__(self, port: int, params: dict[str, str]) -> None:
        self.url = f"http://127.0.0.1:{port}/api"
        self.params = params
        self.response: httpx.Response | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._thread.start()

    def _poll(self) -> None:
        with httpx.Client(timeout=30) as client:
            while not self._stop.is_set():
                try:
                    self.response = client.get(self.url, params=self.params)
                    return
                except httpx.TransportError:
                    time.sleep(0.005)

    def result(self) -> httpx.Response:
        self._thread.join(60)
        self._stop.set()
        assert self.response is not None, "no answer"
        return self.response


def _storages(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    storages: list[dict[str, Any]] = response.json()["diskStorages"]
    return storages


def test_first_answers_come_after_the_storage_scan(tmp_path: Path) -> None:
    port = _free_port()
    server = ServerProcess(tmp_path, args=["--api-addr", f"127.0.0.1:{port}"])
    auth = {"user": "admin", "token": server.admin_password}
    first = FirstAnswer(port, {**auth, "get": "[diskStorages]"})
    server.start()
    try:
        (storage,) = _storages(first.result())  # a first start: not empty
        uuid = storage["uuid"]
        server.stop()

        server.env = {"CAMNET_STORAGE_QUOTA_BYTES": str(3 * 1024**3)}
        select = FirstAnswer(port, {**auth, "recordingStorage": uuid})
        reading = FirstAnswer(port, {**auth, "get": "[diskStorages]"})
        server.start()
        answer = select.result()
        assert answer.status_code == 200, answer.text  # not "no storage with uuid"
        (after,) = _storages(reading.result())
        assert after["uuid"] == uuid
        assert after["total"] == 3 * 1024**3  # the new quota, not the last run's figures
    finally:
        server.stop()
