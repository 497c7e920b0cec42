"""The bare FastAPI baseline for ``http_get.py``: one ``GET /api`` route, served like camnet.

camnet's c2 ``GET /api`` does authentication (a cached token check), query parsing and a
state read on top of what FastAPI and uvicorn cost anyway. To know what that extra work
costs, this app answers the same URL with a constant dict and nothing else, under the
same server settings camnet uses (uvicorn, uvloop, httptools, no access log, one process,
a pre-bound socket). Run: ``python bench/reference_app.py`` (prints the URL when ready).
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI


def create_app(on_ready: str) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        print(on_ready, flush=True)
        yield

    app = FastAPI(lifespan=lifespan)

    @app.get("/api")
    async def api() -> dict[str, object]:
        return {"light0": False, "record": "stop"}

    return app


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(4096)
    sock.setblocking(False)
    host, port = sock.getsockname()[:2]

    app = create_app(f"reference-app listening on http://{host}:{port}")
    config = uvicorn.Config(
        app,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        log_config=None,
        log_level="warning",
        access_log=False,
        timeout_graceful_shutdown=5,
    )
    uvicorn.Server(config).run(sockets=[sock])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
