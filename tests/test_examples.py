"""The c2 seed's Python examples, unmodified but for their constants, against camnet."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path

from tests.support import ServerProcess, clean_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def prepared(name: str, server: ServerProcess, directory: Path) -> Path:
    """A copy of the example with its three constants pointed at the test server."""
    port = server.url.rsplit(":", 1)[1]
    text = (EXAMPLES / name).read_text()
    for constant, value in (
        ("ROTO_CLEAR_IP", "127.0.0.1"),
        ("ROTO_CLEAR_PORT", port),
        ("MY_API_TOKEN", server.token),
    ):
        text, count = re.subn(
            rf'^{constant} = ".*"$', f'{constant} = "{value}"', text, flags=re.MULTILINE
        )
        assert count == 1, constant
    target = directory / name
    target.write_text(text)
    return target


def run(script: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        text=True,
        capture_output=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )


def test_http_example(server: ServerProcess, tmp_path: Path) -> None:
    server.api({"light0": "true"})
    server.post({"pan0": {"x": 1000, "y": 1000}})
    server.post({"pan0": {"x": -50, "y": -50}})
    result = run(prepared("c2_http_get_and_set.py", server, tmp_path))
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.strip().splitlines()
    assert "'light0': True" in first
    assert "'record': 'stop'" in first
    assert second == 'b\'{"light0":false,"pan0":{"x":30.0,"y":20.0}}\''
    assert server.api({"get": "[light0,pan0]"}).json() == {
        "light0": False,
        "pan0": {"x": 30.0, "y": 20.0},
    }


def test_websocket_example_toggles_the_light(server: ServerProcess, tmp_path: Path) -> None:
    before = server.api({"get": "[light0]"}).json()["light0"]
    result = run(prepared("c2_websocket_light_and_jpeg.py", server, tmp_path))
    assert result.returncode == 0, result.stderr
    assert "'cam0Exists': True" in result.stdout
    assert (tmp_path / "myCurrentImg.jpg").exists()
    deadline = time.monotonic() + 3
    while server.api({"get": "[light0]"}).json()["light0"] is before:
        assert time.monotonic() < deadline, "the light was not toggled"
        time.sleep(0.05)


def test_websocket_example_saves_a_valid_jpeg(server: ServerProcess, tmp_path: Path) -> None:
    """The seed's example fetches ``/camera.jpeg`` with the API-User token and saves it."""
    import simplejpeg

    result = run(prepared("c2_websocket_light_and_jpeg.py", server, tmp_path))
    assert result.returncode == 0, result.stderr
    saved = (tmp_path / "myCurrentImg.jpg").read_bytes()
    assert saved[:3] == b"\xff\xd8\xff"
    height, width, _, _ = simplejpeg.decode_jpeg_header(saved)
    assert (width, height) == (1920, 1080)
    assert simplejpeg.decode_jpeg(saved).shape == (1080, 1920, 3)


def test_my_service_example_on_nats_is_called_through_a_nodes_gateway(tmp_path: Path) -> None:
    """examples/my_service.py straight on NATS; a node on the same NATS calls it."""
    import secrets

    from tests.identity.helpers import basic
    from tests.inprocess import inprocess_server
    from tests.outside import require_nats
    from tests.support import ADMIN_PASSWORD

    url = require_nats()
    suffix = secrets.token_hex(4)
    greeter = f"ex{suffix}-Greeter"
    publish = "/gateway/24.1.0/publish"
    with (
        inprocess_server(tmp_path / "data", bus=url, machine_name=f"node{suffix}") as node,
        node.client(headers=basic("admin", ADMIN_PASSWORD)) as http,
    ):
        process = subprocess.Popen(
            [
                sys.executable,
                str(EXAMPLES / "my_service.py"),
                "--bus",
                url,
                "--machine",
                f"ex{suffix}",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=clean_env(),
        )
        try:
            assert process.stdout is not None
            assert f"{greeter} ready" in process.stdout.readline()
            replies = http.get(
                publish,
                params={"Type": "Call", "Target": greeter, "Method": "greet", "Paramname": "Ada"},
            ).json()
            assert replies[0]["Topic"]["Type"] == "CallResult"
            assert replies[0]["Message"]["Result"] == "Hello, Ada! (greeting number 1)"
            stored = http.get(
                publish, params={"Type": "Get", "Target": "Store", "Name": f"{greeter}.greeted"}
            ).json()
            assert stored[0]["Message"] == {"Value": 1}
        finally:
            process.terminate()
            process.communicate(timeout=10)
            http.get(  # leave nothing in the network's shared Store
                publish,
                params={
                    "Type": "Call",
                    "Target": "Store",
                    "Method": "Forget",
                    "ParamService": greeter,
                },
            )
