"""A real camnet server in a subprocess on a loopback port, for black-box tests."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

TOKEN = "test-token-0123456789"
ADMIN_PASSWORD = "test-admin-password"
READY_PREFIX = "camnet listening on "
SECRETS_RULE = "=" * 78
"""The rule around the first-start secrets block, printed after the listening line."""


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test process's environment without any CAMNET_* setting, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CAMNET_")}
    # Several test servers run at once: the ZeroMQ hub takes any free ports, not 16201/2.
    env.update({"CAMNET_ZMQ_PUBLISH_PORT": "0", "CAMNET_ZMQ_SUBSCRIBE_PORT": "0"})
    env.update({"CAMNET_GATEWAY_PORT": "0"})
    env.update(extra or {})
    return env


@dataclass
class ServerProcess:
    """Starts and stops ``camnet serve`` with a data directory that outlives restarts."""

    data_dir: Path
    env: dict[str, str] = field(default_factory=dict)
    args: Sequence[str] = ()
    prefix: Sequence[str] = ()
    """A command the server runs under (``unshare …``), its pid then the server's."""
    token: str = TOKEN
    admin_password: str = ADMIN_PASSWORD
    url: str = ""
    output: list[str] = field(default_factory=list)
    _process: subprocess.Popen[str] | None = None
    _pump: threading.Thread | None = None

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/api"

    def start(self, timeout: float = 30.0) -> ServerProcess:
        env = clean_env(
            {
                "CAMNET_API_TOKEN": self.token,
                "CAMNET_ADMIN_PASSWORD": self.admin_password,
                "CAMNET_SIMULATION_INTERVAL": "0.2",
                # No backup pre-roll capture in idle test servers (it costs ~8 % of a core);
                # tests of the pre-roll set it.
                "CAMNET_BACKUP_PREROLL_SECONDS": "0",
                **self.env,
            }
        )
        command = [
            *self.prefix,
            sys.executable,
            "-m",
            "camnet",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--api-addr",
            "127.0.0.1:0",
            "--log-level",
            "warning",
            *self.args,
        ]
        self.output = []
        # On a first start the secrets block follows the listening line: wait for it too.
        # Only where this server surely creates the users: with another database (--db,
        # CAMNET_DB, or a --config that may name one) another node may have created them,
        # and then this one prints no secrets.
        first_start = (
            not (self.data_dir / "camnet.sqlite3").exists()
            and "--db" not in self.args
            and "--config" not in self.args
            and "CAMNET_DB" not in self.env
        )
        process = subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1
        )
        self._process = process
        ready = threading.Event()

        def pump() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                self.output.append(line.rstrip("\n"))
                if line.startswith(READY_PREFIX):
                    self.url = line[len(READY_PREFIX) :].strip()
                    if not first_start:
                        ready.set()
                elif (
                    self.url
                    and line.rstrip("\n") == SECRETS_RULE
                    and self.output.count(SECRETS_RULE) == 2
                ):
                    ready.set()

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + timeout
        while not ready.wait(0.05):
            if process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("camnet did not start:\n" + "\n".join(self.output))
        return self

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        self._close(process)

    def kill(self) -> None:
        """SIGKILL, as a crash or power cut would stop it."""
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait(5)
            self._close(process)

    def _close(self, process: subprocess.Popen[str]) -> None:
        if self._pump is not None:
            self._pump.join(5)
            self._pump = None
        if process.stdout is not None:
            process.stdout.close()

    @property
    def pid(self) -> int:
        assert self._process is not None, "not running"
        return self._process.pid

    def restart(self) -> ServerProcess:
        self.stop()
        return self.start()

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)

    def api(
        self, params: Any = None, *, user: str | None = None, secret: str | None = None
    ) -> httpx.Response:
        """``GET /api`` with query-token authentication (API-User unless told)."""
        query: list[tuple[str, str | int | float | bool | None]] = []
        if user is not None:
            query.append(("user", user))
        query.append(("token", secret or (self.admin_password if user == "admin" else self.token)))
        if isinstance(params, Mapping):
            query.extend((str(k), str(v)) for k, v in params.items())
        elif params is not None:
            query.extend(params)
        with self.client() as client:
            return client.get("/api", params=query)

    def post(self, body: Any, *, admin: bool = False, **kwargs: Any) -> httpx.Response:
        auth = ("admin", self.admin_password) if admin else ("API-User", self.token)
        with self.client() as client:
            if isinstance(body, bytes | str):
                return client.post("/api", content=body, auth=auth, **kwargs)
            return client.post("/api", json=body, auth=auth, **kwargs)

    def state(self) -> dict[str, Any]:
        """The whole state as the admin sees it."""
        response = self.api(user="admin")
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result
