"""A real camnet server on a loopback port, run in this process so a test can hold its
clock (``ManualClock``): token expiry and rate-limit windows move when the test says."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from camnet.app import create_app
from camnet.clock import ManualClock
from camnet.identity.bootstrap import InitialCredentials
from camnet.settings import load_settings
from tests.support import ADMIN_PASSWORD, TOKEN


class InProcessServer:
    def __init__(self, url: str, clock: ManualClock, data_dir: Path, app: FastAPI) -> None:
        self.app = app
        self.url = url
        self.clock = clock
        self.data_dir = data_dir
        self.admin_password = ADMIN_PASSWORD
        self.token = TOKEN

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10.0, **kwargs)


@contextmanager
def inprocess_server(data_dir: Path, **settings: Any) -> Iterator[InProcessServer]:
    clock = ManualClock(start=time.time())
    values = {
        "data_dir": data_dir,
        "admin_password": ADMIN_PASSWORD,
        "api_token": TOKEN,
        "log_level": "warning",
        "zmq_publish_port": 0,
        "zmq_subscribe_port": 0,
        "gateway_port": 0,
        "backup_preroll_seconds": 0,
        **settings,
    }
    config_settings = load_settings(values, environ={})
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"

    def quiet(_credentials: InitialCredentials) -> None:
        return None

    app = create_app(
        config_settings,
        clock=clock,
        listen_urls=(f"{url}/api",),
        on_credentials=quiet,
        http_socket=sock,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", log_config=None, access_log=False, loop="asyncio")
    )

    def run() -> None:
        # The app serves HTTP on ``sock`` itself (camnet.protocols.listeners).
        asyncio.run(server.serve(sockets=[]))

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the in-process server did not start")
        time.sleep(0.02)
    try:
        yield InProcessServer(url, clock, data_dir, app)
    finally:
        server.should_exit = True
        thread.join(15)
        sock.close()
