"""HTTPS and the run-time switching of the listeners, through ``/api`` with real clients."""

from __future__ import annotations

import json
import os
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import httpx
import pytest
import websocket

from camnet.protocols import certificates
from tests.inprocess import InProcessServer, inprocess_server
from tests.protocols.rtsp_support import admin_get, free_port
from tests.seeds import python_example, with_constants
from tests.support import ADMIN_PASSWORD, TOKEN, clean_env
from tests.test_examples import C2_DOCUMENT, HTTP_EXAMPLE, WEBSOCKET_EXAMPLE

pytestmark = pytest.mark.timeout(120)
ADMIN = ("admin", ADMIN_PASSWORD)


def eventually(check: Callable[[], bool], timeout: float = 10) -> None:
    """The switch happens right after the answer; wait for it to show."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def answers(url: str, cert: Path | None = None) -> bool:
    try:
        post(url, {}, cert)
    except httpx.TransportError:
        return False
    return True


def post(url: str, values: Mapping[str, object], cert: Path | None = None) -> httpx.Response:
    verify: ssl.SSLContext | bool = True
    if cert is not None:
        verify = ssl.create_default_context(cafile=str(cert))
    with httpx.Client(base_url=url, auth=ADMIN, verify=verify, timeout=10) as client:
        return client.post("/api", json=values)


@pytest.fixture
def secure(tmp_path: Path) -> Iterator[tuple[InProcessServer, str, Path]]:
    """camnet with HTTPS switched on through ``/api``; (server, https URL, cert)."""
    with inprocess_server(tmp_path) as server:
        port = free_port()
        response = post(server.url, {"httpsPort": port, "httpsOn": True})
        assert response.status_code == 200, response.text
        url, cert = f"https://127.0.0.1:{port}", tmp_path / certificates.GENERATED_CERT
        # The listener starts right after the answer; a test must not race it.
        eventually(lambda: answers(url, cert))
        yield server, url, cert


def curl(url: str, cert: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-sS", "-g", "--cacert", str(cert), "-u", f"admin:{ADMIN_PASSWORD}", url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_curl_verifies_the_generated_certificate(secure: tuple[InProcessServer, str, Path]) -> None:
    server, url, cert = secure
    result = curl(f"{url}/api?get=[httpsStatus,httpsCertificate]", cert)
    assert result.returncode == 0, result.stderr
    state = json.loads(result.stdout)
    assert state["httpsStatus"] == {
        "state": "listening",
        "port": int(url.rsplit(":", 1)[1]),
        "urls": [url],
    }
    description = state["httpsCertificate"]
    assert description["generated"] is True
    assert description["selfSigned"] is True
    assert "127.0.0.1" in description["names"]
    assert "localhost" in description["names"]
    # The key is the owner's alone.
    key = server.data_dir / certificates.GENERATED_KEY
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    # Without the certificate, curl refuses the self-signed server.
    refused = subprocess.run(
        ["curl", "-sS", f"{url}/api"], capture_output=True, text=True, timeout=30, check=False
    )
    assert refused.returncode == 60, refused.stderr


def test_wss_websocket(secure: tuple[InProcessServer, str, Path]) -> None:
    _, url, cert = secure
    wss = url.replace("https://", "wss://") + f"/api?token={TOKEN}"
    connection = websocket.create_connection(wss, sslopt={"ca_certs": str(cert)}, timeout=10)
    try:
        state = json.loads(connection.recv())
        assert state["httpsOn"] is True
        connection.send(json.dumps({"light0": not state["light0"]}))
        # Simulated readings arrive every interval; the change is the message with light0.
        change = json.loads(connection.recv())
        while "light0" not in change:
            change = json.loads(connection.recv())
        assert change == {"light0": not state["light0"]}
    finally:
        connection.close()


def prepared(marker: str, port: str, directory: Path) -> Path:
    """The c2 document's example holding ``marker`` (cut out of the vendor document at
    test time), its constants pointed at the HTTPS listener, its URLs made https/wss."""
    text = with_constants(
        python_example(marker, within=C2_DOCUMENT),
        {"ROTO_CLEAR_IP": "127.0.0.1", "ROTO_CLEAR_PORT": port, "MY_API_TOKEN": TOKEN},
    )
    text = text.replace('"http://"', '"https://"').replace('"ws://"', '"wss://"')
    target = directory / "vendor_example.py"
    target.write_text(text)
    return target


@pytest.mark.parametrize("name", [HTTP_EXAMPLE, WEBSOCKET_EXAMPLE], ids=["http", "websocket"])
def test_the_seed_examples_over_https(
    secure: tuple[InProcessServer, str, Path], name: str, tmp_path: Path
) -> None:
    _, url, cert = secure
    script = prepared(name, url.rsplit(":", 1)[1], tmp_path)
    assert "https://" in script.read_text()
    env = clean_env({"REQUESTS_CA_BUNDLE": str(cert), "WEBSOCKET_CLIENT_CA_BUNDLE": str(cert)})
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        text=True,
        capture_output=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "'light0'" in result.stdout
    if name == WEBSOCKET_EXAMPLE:
        assert (tmp_path / "myCurrentImg.jpg").read_bytes()[:2] == b"\xff\xd8"


def test_the_last_listener_of_the_request_is_not_switched_off(tmp_path: Path) -> None:
    with inprocess_server(tmp_path) as server:
        # Through HTTP with HTTPS off: HTTP may neither go off nor move.
        for values in ({"httpOn": False}, {"httpPort": free_port()}):
            response = post(server.url, values)
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["code"] == "refused"
            assert "came through the HTTP listener" in error["message"]
        assert admin_get(server, "httpOn")["httpOn"] is True
        assert post(server.url, {"light0": True}).status_code == 200


def test_switching_listeners_and_ports_at_run_time(
    secure: tuple[InProcessServer, str, Path],
) -> None:
    server, url, cert = secure
    # Through HTTPS, HTTP moves to another port: the old one closes, the new one answers.
    new_http = free_port()
    response = post(url, {"httpPort": new_http}, cert)
    assert response.status_code == 200, response.text
    moved = f"http://127.0.0.1:{new_http}"
    eventually(lambda: answers(moved) and not answers(server.url))
    state = httpx.get(f"{moved}/api", params={"get": "[httpStatus,connectionUrls]"}, auth=ADMIN)
    assert state.json()["httpStatus"] == {"state": "listening", "port": new_http, "urls": [moved]}
    assert f"{moved}/api" in state.json()["connectionUrls"]["http"]
    # HTTPS cannot go off through HTTPS... unless HTTP is up, which it is.
    # Through HTTPS, HTTP goes off; then HTTPS is the last and refuses to go off.
    assert post(url, {"httpOn": False}, cert).status_code == 200
    eventually(lambda: not answers(moved))
    refused = post(url, {"httpsOn": False}, cert)
    assert refused.status_code == 400
    assert "came through the HTTPS listener" in refused.json()["error"]["message"]
    # Both on one port is refused.
    https_port = int(url.rsplit(":", 1)[1])
    same = post(url, {"httpOn": True, "httpPort": https_port}, cert)
    assert same.status_code == 400
    assert "same port" in same.json()["error"]["message"]
    # HTTPS moves (HTTP back on first), and the client follows.
    assert post(url, {"httpOn": True}, cert).status_code == 200
    eventually(lambda: answers(moved))
    new_https = free_port()
    assert post(url, {"httpsPort": new_https}, cert).status_code == 200
    moved_https = f"https://127.0.0.1:{new_https}"
    eventually(lambda: answers(moved_https, cert) and not answers(url, cert))
    status = post(moved_https, {"get": ["httpsStatus"]}, cert).json()
    assert status["httpsStatus"]["port"] == new_https


def test_a_port_in_use_is_refused(secure: tuple[InProcessServer, str, Path]) -> None:
    server, _, _ = secure
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        response = post(server.url, {"httpsPort": port})
    assert response.status_code == 400
    assert "in use" in response.json()["error"]["message"]
    assert admin_get(server, "httpsStatus")["httpsStatus"]["state"] == "listening"


def test_a_configured_certificate(tmp_path: Path) -> None:
    cert, key = tmp_path / "mine.pem", tmp_path / "mine.key"
    certificates.generate(cert, key, "camnet-test", ["127.0.0.1", "camnet.test"])
    with inprocess_server(tmp_path / "data", https_cert_file=cert, https_key_file=key) as server:
        port = free_port()
        assert post(server.url, {"httpsPort": port, "httpsOn": True}).status_code == 200
        result = curl(f"https://127.0.0.1:{port}/api?get=[httpsCertificate]", cert)
        assert result.returncode == 0, result.stderr
        description = json.loads(result.stdout)["httpsCertificate"]
        assert description["generated"] is False
        assert "camnet.test" in description["names"]
        assert description["subject"] == "CN=camnet-test"
        assert not (tmp_path / "data" / certificates.GENERATED_CERT).exists()
