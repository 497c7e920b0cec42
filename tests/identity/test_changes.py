"""Identity changes wake the watchers through a notice instead of a 1 s poll (issue 19,
item 7): a commit that wrote identity data is announced on the bus; another node's
announcement wakes this node's watchers; issuing a token (an insert nobody remembers)
announces nothing."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from camnet.bus.filters import TopicFilter
from camnet.bus.local import LocalBus
from camnet.bus.message import BROADCAST, Envelope, Message, MessageType, Topic
from camnet.identity.changes import NOTICE, IdentityChanges
from camnet.identity.permissions import Role
from camnet.identity.tokens import TokenRepository
from camnet.identity.users import UserRepository
from camnet.store.database import Database

NOW = 1_700_000_000.0


async def test_identity_commits_are_announced_and_wake_the_watchers(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    bus = LocalBus("a")
    changes = IdentityChanges(bus, "a", database.engine)
    listener = changes.listener()
    heard = asyncio.Queue[Envelope]()
    bus.subscribe(TopicFilter(type=MessageType.UPDATE, name=NOTICE), heard.put_nowait)
    await changes.start()
    try:
        tokens = TokenRepository(database.engine)
        await database.run(tokens.issue, "access", "f", "user", 1, None, NOW, 3600)
        # A notice of the commit would be on its way now (scheduled before ``run``
        # returned); a marker published after it arrives after it.
        for _ in range(3):
            await asyncio.sleep(0)
        marker = Topic(MessageType.UPDATE, target=BROADCAST, source="marker", name=NOTICE)
        await bus.publish(Envelope(marker, Message(value={})))
        assert (await asyncio.wait_for(heard.get(), 5)).topic.source == "marker"
        users = UserRepository(database.engine)
        await database.run(users.create, "ada", Role.VIEWER, "ada-password-1")
        notice = await asyncio.wait_for(heard.get(), 5)
        assert notice.topic.source == "a-Identity"
        await asyncio.wait_for(listener.wait(60), 5)  # woken: returns at once
    finally:
        await changes.stop()
        database.close()


async def test_another_nodes_notice_wakes_this_nodes_watchers(tmp_path: Path) -> None:
    database = Database.open_sqlite(tmp_path / "db.sqlite3")
    bus = LocalBus("a")
    changes = IdentityChanges(bus, "a", database.engine)
    listener = changes.listener()
    await changes.start()
    try:
        notice = Topic(MessageType.UPDATE, target=BROADCAST, source="b-Identity", name=NOTICE)
        await bus.publish(Envelope(notice, Message(value={})))
        await asyncio.wait_for(listener.wait(60), 5)
    finally:
        await changes.stop()
        database.close()


async def test_a_notice_is_scheduled_only_once_its_commit_is_visible(tmp_path: Path) -> None:
    """SQLAlchemy's ``commit`` event fires before the database commits: a notice sent
    then could reach another node before the write is visible there, and that node would
    find the counters unchanged (the cluster revocation test waited its 60 s for this)."""
    path = tmp_path / "db.sqlite3"
    database = Database.open_sqlite(path)
    changes = IdentityChanges(LocalBus("a"), "a", database.engine)
    await changes.start()
    seen: list[int] = []

    class RecordingLoop:
        """Stands in for the event loop: at the moment a notice is scheduled, another
        connection reads whether the user is there yet."""

        def call_soon_threadsafe(self, _callback: object, *_args: object) -> None:
            with sqlite3.connect(path) as other:
                query = "SELECT count(*) FROM users WHERE name = 'ada'"
                seen.append(other.execute(query).fetchone()[0])

    changes._loop = RecordingLoop()  # type: ignore[assignment]
    try:
        users = UserRepository(database.engine)
        await database.run(users.create, "ada", Role.VIEWER, "ada-password-1")
        assert seen == [1]
    finally:
        await changes.stop()
        database.close()
