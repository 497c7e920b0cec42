"""A real server for the SDK and CLI tests, with an OAuth client and an API key made the
way an operator makes them (``camnet client add``, ``camnet apikey add``)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from camnet.client import Client, Password, Recording
from tests.support import ServerProcess, clean_env

CLIENT_ID = "default.sdktest"
CLIENT_SECRET = "sdk-test-client-secret"
SERVER_ENV = {
    "CAMNET_WEBHOOK_ALLOW": "127.0.0.0/8,::1",
    "CAMNET_TOKEN_LIFETIME": "120",
    "CAMNET_RATE_LIMIT_PER_MINUTE": "3000",
}


@dataclass
class Setup:
    server: ServerProcess
    api_key: str

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self) -> Client:
        return Client(self.url, Password("admin", self.server.admin_password))


def camnet(*args: str, data_dir: Path) -> dict[str, object]:
    """Run an identity command on the server's data directory; its JSON answer."""
    result = subprocess.run(
        [sys.executable, "-m", "camnet", *args, "--data-dir", str(data_dir), "--json"],
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    answer: dict[str, object] = json.loads(result.stdout)
    return answer


def start(data_dir: Path) -> Setup:
    server = ServerProcess(data_dir, env=dict(SERVER_ENV)).start()
    grants = ["--grant", "client_credentials", "--grant", "password", "--grant", "refresh_token"]
    camnet("client", "add", CLIENT_ID, *grants, "--secret", CLIENT_SECRET, data_dir=data_dir)
    key = camnet("apikey", "add", "sdk-tests", "--role", "admin", data_dir=data_dir)["key"]
    assert isinstance(key, str)
    # The server notices new clients and keys within a second.
    wait_until(lambda: accepts_key(server.url, key), "the API key to be known")
    return Setup(server, key)


def accepts_key(url: str, key: str) -> bool:
    response = httpx.get(url + "/api", params={"get": "[record]"}, headers={"X-API-Key": key})
    return response.status_code == 200


def wait_until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def record_once(client: Client, seconds: float = 1.2) -> Recording:
    """Record for a moment and return the closed recording."""
    assert client.set(record="start")["record"] == "start"
    time.sleep(seconds)
    assert client.set(record="stop")["record"] == "stop"
    found: list[Recording] = []

    def closed() -> bool:
        found[:] = [r for r in client.recordings(kind="manual").items if not r.open and r.size]
        return bool(found)

    wait_until(closed, "a closed recording")
    return found[0]
