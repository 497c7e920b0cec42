"""The Store's database backend shared by nodes on one PostgreSQL database (no NATS): the
first writes of a service made by several nodes at once neither fail nor get lost."""

from __future__ import annotations

import asyncio

from camnet.network.store_backends import DatabaseStoreBackend, State
from camnet.store.database import Database
from tests.postgres import scratch_database

NODES = 3
WRITES = 5


def increment(state: State) -> State:
    count = state.get("count", 0)
    assert isinstance(count, int)
    return {**state, "count": count + 1}


async def test_first_writes_of_several_nodes_at_once_all_count() -> None:
    with scratch_database() as url:
        databases = [Database.open(url) for _ in range(NODES)]
        try:
            backends = [DatabaseStoreBackend(database) for database in databases]

            async def node(backend: DatabaseStoreBackend) -> None:
                for _ in range(WRITES):
                    await backend.change("cell3-Greeter", increment)

            await asyncio.gather(*(node(backend) for backend in backends))
            assert await backends[0].load("cell3-Greeter") == {"count": NODES * WRITES}
            assert await backends[1].services() == ["cell3-Greeter"]
        finally:
            for database in databases:
                database.close()
