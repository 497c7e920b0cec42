"""Every shell and Python example in docs/*.md runs as written against a real server.

The marker convention is in tests/doc_blocks.py and docs/testing.md. README.md's examples
run in tests/system/test_readme.py, on a clean clone in a new shell; here its markers are
only checked. Each document gets its own server (with NATS or MQTT when a block says so);
its blocks run in order, each in a new shell whose ``PATH`` is the activated venv's, with
the documented address replaced by the server's and ``NAME=…`` placeholders filled.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.doc_blocks import (
    DOCUMENTED_PORTS,
    DOCUMENTS,
    REPOSITORY,
    Block,
    activated_path,
    blocks,
    free_port,
    run,
)
from tests.network.mqtt_support import BROKER_HOST, BROKER_PORT, require_mosquitto
from tests.outside import require_nats
from tests.support import ServerProcess, clean_env

DOCS = [path for path in DOCUMENTS if path.name != "README.md"]


def test_every_block_is_an_example_or_says_why_not() -> None:
    problems = [problem for path in DOCUMENTS for b in blocks(path) for problem in b.problems()]
    assert not problems, "\n".join(problems)


def _server(data_dir: Path, needs: frozenset[str]) -> ServerProcess:
    env: dict[str, str] = {}
    args: list[str] = []
    suffix = secrets.token_hex(4)
    if "nats" in needs:
        args += ["--bus", require_nats(), "--machine-name", f"docs{suffix}"]
        env["CAMNET_NETWORK_NAME"] = f"docs{suffix}"
    if "mqtt" in needs:
        require_mosquitto()
        args += ["--mqtt", f"mqtt://{BROKER_HOST}:{BROKER_PORT}"]
        env["CAMNET_MQTT_PREFIX"] = f"camnet-docs-{suffix}"
        env["CAMNET_MQTT_DISCOVERY_PREFIX"] = f"camnet-docs-{suffix}-ha"
    return ServerProcess(data_dir, env=env, args=args).start()


def _environment(home: Path, server: ServerProcess | None) -> dict[str, str]:
    env = clean_env({"HOME": str(home), "PATH": activated_path(Path(sys.executable).parent)})
    for key in ("CAMNET_ZMQ_PUBLISH_PORT", "CAMNET_ZMQ_SUBSCRIBE_PORT", "CAMNET_GATEWAY_PORT"):
        env.pop(key, None)  # the reader's shell has none of the test harness's settings
    if server is not None:
        env.update(
            TOKEN=server.token,
            ADMIN_PASSWORD=server.admin_password,
            CAMNET_SERVER=server.url,
            CAMNET_USER="admin",
            CAMNET_PASSWORD=server.admin_password,
            CAMNET_DATA_DIR=str(server.data_dir),
        )
    return env


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[dict[frozenset[str], ServerProcess]]:
    started: dict[frozenset[str], ServerProcess] = {}
    yield started
    for server in started.values():
        server.stop()


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", DOCS, ids=[path.name for path in DOCS])
def test_the_examples_of(
    path: Path, tmp_path: Path, servers: dict[frozenset[str], ServerProcess]
) -> None:
    runnable = [b for b in blocks(path) if b.kind and b.skip_reason is None]
    runnable = [b for b in runnable if "terminal-1" not in b.needs]
    if not runnable:
        pytest.skip("no runnable example")
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / "examples").symlink_to(REPOSITORY / "examples")
    ports = {port: free_port() for port in DOCUMENTED_PORTS}  # one per document
    for block in runnable:
        server = None
        needs = block.needs - {"terminal-1"}
        if needs:
            if needs not in servers:
                servers[needs] = _server(tmp_path / f"data-{len(servers)}", needs)
            server = servers[needs]
        _run(block, workdir, _environment(tmp_path, server), server, ports)


def _run(
    block: Block,
    workdir: Path,
    env: dict[str, str],
    server: ServerProcess | None,
    ports: dict[str, str],
) -> None:
    address = server.url.removeprefix("http://") if server is not None else None
    done = run(block, workdir, env, address, ports)
    assert done.returncode == 0, (
        f"{block.id} failed ({done.returncode}):\n{block.code}\n"
        f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    )
