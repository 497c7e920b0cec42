"""One camnet server for the streams tests, with users of the default and another account."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from camnet.devices.stereo.mxid import default_stereo_mxid
from camnet.identity.permissions import Role
from camnet.settings import default_machine_name
from tests.identity.helpers import basic, seed_records
from tests.inprocess import InProcessServer, inprocess_server

MXID = default_stereo_mxid(default_machine_name())
"""The default stereo camera of a server on this machine (derived from its name)."""
BASE = f"/cameras/{MXID}/streams"
VIEWER = ("watcher", "watcher-password-1")
STRANGER = ("stranger", "stranger-password-1")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("streams")
    seed_records(
        data_dir,
        accounts=("default", "other"),
        users=(
            ("default", *VIEWER, Role.VIEWER),
            ("other", *STRANGER, Role.ADMIN),
        ),
    )
    with inprocess_server(data_dir) as running:
        yield running


@pytest.fixture
def admin(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client(auth=("admin", server.admin_password)) as client:
        yield client


@pytest.fixture
def viewer(server: InProcessServer) -> Iterator[httpx.Client]:
    with server.client(headers=basic(*VIEWER)) as client:
        yield client


@pytest.fixture
def stranger(server: InProcessServer) -> Iterator[httpx.Client]:
    # a user of another account signs in as ``account\\user``
    with server.client(headers=basic(f"other\\{STRANGER[0]}", STRANGER[1])) as client:
        yield client
