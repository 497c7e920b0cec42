"""A fleet server with a second account, a viewer, and devices known from earlier runs
(offline now), so lists have several pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import insert

from camnet.fleet.tables import fleet_devices
from camnet.identity.accounts import AccountRepository
from camnet.identity.permissions import Role
from camnet.identity.users import UserRepository
from camnet.store.database import Database
from tests.inprocess import InProcessServer, inprocess_server

OTHER_EMAIL = "ops@other.example"
VIEWER_EMAIL = "viewer@example.com"
PASSWORD = "a-good-password"
OLD_DEVICES = ("oldbox-Cam", "attic-Cam", "yard-Cam", "gate-Cam")


def seed(data_dir: Path, url: str | None = None) -> None:
    """The accounts, users and old devices; in ``url``'s database when given."""
    database = Database.open(url or f"sqlite:///{data_dir / 'camnet.sqlite3'}")
    try:
        AccountRepository(database.engine).ensure("default")
        AccountRepository(database.engine).ensure("other")
        users = UserRepository(database.engine)
        users.create("ops", Role.OPERATOR, PASSWORD, account="other", email=OTHER_EMAIL)
        users.create("watcher", Role.VIEWER, PASSWORD, email=VIEWER_EMAIL)
        with database.engine.begin() as connection:
            for index, service in enumerate(OLD_DEVICES):
                connection.execute(
                    insert(fleet_devices).values(
                        uuid=f"00000000-0000-4000-8000-00000000000{index}",
                        service=service,
                        name=service.split("-")[0],
                        client_identifier=f"client-{index}",
                        geo_city=("Oslo", "Bergen", "Oslo", "Tromso")[index],
                        geo_country="NO",
                        group_name="north" if index % 2 else "south",
                        account="default",
                        version=1,
                        created_at=1_600_000_000.0 + index,
                    )
                )
    finally:
        database.close()


@pytest.fixture(scope="module")
def fleet_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessServer]:
    data_dir = tmp_path_factory.mktemp("fleet")
    seed(data_dir)
    with inprocess_server(
        data_dir,
        webhook_allow="127.0.0.0/8,::1",
        image_ready_delay=20,
        simulation_interval=0.2,
        webhook_retry_base=5,
        webhook_retry_max=60,
    ) as running:
        yield running
