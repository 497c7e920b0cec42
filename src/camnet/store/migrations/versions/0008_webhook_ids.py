"""Webhook ids are never given again (issue 17, item 10).

On SQLite an ``INTEGER PRIMARY KEY`` without ``AUTOINCREMENT`` takes the largest id + 1,
so deleting the newest webhook gave its id to the next one, which then showed the
deleted webhook's delivery log. The table is rebuilt with ``AUTOINCREMENT`` and its
counter starts above every id seen anywhere (the attempts log and the outbox still name
webhooks deleted before this revision). PostgreSQL's sequence never gives an id twice:
nothing to do there.

Revision ID: 0008wh
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008wh"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "webhooks", recreate="always", table_kwargs={"sqlite_autoincrement": True}
    ):
        pass
    highest = bind.execute(
        sa.text(
            "SELECT MAX(id) FROM (SELECT MAX(id) AS id FROM webhooks"
            " UNION ALL SELECT MAX(webhook_id) FROM webhook_attempts"
            " UNION ALL SELECT MAX(webhook_id) FROM webhook_deliveries)"
        )
    ).scalar()
    bind.execute(sa.text("DELETE FROM sqlite_sequence WHERE name = 'webhooks'"))
    bind.execute(
        sa.text("INSERT INTO sqlite_sequence (name, seq) VALUES ('webhooks', :seq)"),
        {"seq": int(highest or 0)},
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    with op.batch_alter_table(
        "webhooks", recreate="always", table_kwargs={"sqlite_autoincrement": False}
    ):
        pass
