"""RTSP and tenancy (issue 17, item 2): a user of another account gets no stream, and
its refusal is the refusal of a path that does not exist, so it learns nothing about
which paths do. Checked with ffprobe and raw requests."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from camnet.identity.accounts import AccountRepository
from camnet.identity.permissions import Role
from camnet.identity.users import UserRepository
from camnet.store.database import Database
from tests.inprocess import InProcessServer
from tests.protocols.rtsp_support import raw_request, require_ffmpeg, rtsp_camnet, url

pytestmark = pytest.mark.timeout(180)

PASSWORD = "a-good-password"


def seed(data_dir: Path) -> None:
    """A viewer in the default account, a viewer and an administrator in another
    (signed in as ``other\\stranger``: a bare name is a user of the default account)."""
    database = Database.open(f"sqlite:///{data_dir / 'camnet.sqlite3'}")
    try:
        AccountRepository(database.engine).ensure("default")
        AccountRepository(database.engine).ensure("other")
        users = UserRepository(database.engine)
        users.create("homeviewer", Role.VIEWER, PASSWORD)
        users.create("stranger", Role.VIEWER, PASSWORD, account="other")
        users.create("strangeadmin", Role.ADMIN, PASSWORD, account="other")
    finally:
        database.close()


@pytest.fixture(scope="module")
def camnet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[InProcessServer, int]]:
    require_ffmpeg()
    data_dir = tmp_path_factory.mktemp("rtsp-tenancy")
    seed(data_dir)
    with rtsp_camnet(data_dir) as running:
        yield running


def request(port: int, method: str, path: str, user: str, extra: str = "") -> str:
    basic = base64.b64encode(f"{user}:{PASSWORD}".encode()).decode()
    return raw_request(
        port,
        f"{method} rtsp://127.0.0.1:{port}{path} RTSP/1.0\r\nCSeq: 2\r\n"
        f"Authorization: Basic {basic}\r\n{extra}\r\n",
    )


def test_a_viewer_of_the_owning_account_may_watch(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    answer = request(port, "DESCRIBE", "/", "homeviewer")
    assert answer.startswith("RTSP/1.0 200 "), answer


@pytest.mark.parametrize("user", ["other\\stranger", "other\\strangeadmin"])
def test_another_account_gets_what_a_missing_path_gets(
    camnet: tuple[InProcessServer, int], user: str
) -> None:
    _, port = camnet
    missing = request(port, "DESCRIBE", "/nowhere", user)
    assert missing.startswith("RTSP/1.0 404 "), missing
    for path in ("/", "/head0", "/head0/trackID=0"):
        answer = request(port, "DESCRIBE", path, user)
        assert answer.startswith("RTSP/1.0 404 "), (path, answer)
        assert "m=video" not in answer
    setup = request(
        port, "SETUP", "/head0/trackID=0", user, "Transport: RTP/AVP/TCP;interleaved=0-1\r\n"
    )
    assert setup.startswith("RTSP/1.0 404 "), setup
    assert "Session:" not in setup


def test_ffprobe_of_another_account_reads_nothing(camnet: tuple[InProcessServer, int]) -> None:
    _, port = camnet
    result = subprocess.run(
        [
            *("ffprobe", "-v", "error", "-rtsp_transport", "tcp"),
            *("-show_streams", "-of", "json", url(port, "/", "other%5Cstranger", PASSWORD)),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0, result.stdout
    assert "h264" not in result.stdout
    assert "404" in result.stderr, result.stderr
