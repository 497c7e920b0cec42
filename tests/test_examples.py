"""The c2 document's Python examples, unmodified but for their constants, against camnet.

The examples are cut out of the vendor document at test time (``tests/seeds.py``); the
repository holds none of the vendor's code.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.seeds import python_example, with_constants
from tests.support import ServerProcess, clean_env

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
C2_DOCUMENT = "ROTO_CLEAR_IP"
"""Text only the c2 vendor document contains: the constant its examples start with."""
HTTP_EXAMPLE = "get=[light0,record,recordTime,pan0]"
WEBSOCKET_EXAMPLE = "create_connection"


def prepared(marker: str, server: ServerProcess, directory: Path) -> Path:
    """The vendor's example holding ``marker``, its three constants pointed at the server."""
    port = server.url.rsplit(":", 1)[1]
    source = with_constants(
        python_example(marker, within=C2_DOCUMENT),
        {"ROTO_CLEAR_IP": "127.0.0.1", "ROTO_CLEAR_PORT": port, "MY_API_TOKEN": server.token},
    )
    target = directory / "vendor_example.py"
    target.write_text(source)
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
    result = run(prepared(HTTP_EXAMPLE, server, tmp_path))
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
    result = run(prepared(WEBSOCKET_EXAMPLE, server, tmp_path))
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

    result = run(prepared(WEBSOCKET_EXAMPLE, server, tmp_path))
    assert result.returncode == 0, result.stderr
    saved = (tmp_path / "myCurrentImg.jpg").read_bytes()
    assert saved[:3] == b"\xff\xd8\xff"
    height, width, _, _ = simplejpeg.decode_jpeg_header(saved)
    assert (width, height) == (1920, 1080)
    assert simplejpeg.decode_jpeg(saved).shape == (1080, 1920, 3)


def test_camnets_own_c2_example(server: ServerProcess, tmp_path: Path) -> None:
    """examples/c2_light_and_snapshot.py: reads, toggles the light, saves a JPEG."""
    before = server.api({"get": "[light0]"}).json()["light0"]
    output = tmp_path / "snap.jpg"
    done = subprocess.run(
        [
            sys.executable,
            str(EXAMPLES / "c2_light_and_snapshot.py"),
            "--url",
            server.url,
            "--token",
            server.token,
            "--output",
            str(output),
        ],
        text=True,
        capture_output=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"light0 is now {not before}" in done.stdout
    assert server.api({"get": "[light0]"}).json()["light0"] is (not before)
    assert output.read_bytes()[:3] == b"\xff\xd8\xff"


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
