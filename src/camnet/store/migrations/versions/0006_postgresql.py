"""Portability for PostgreSQL, and what several nodes sharing one database need.

- ``recordings.size`` becomes a 64-bit integer: a segment may pass 2 GiB. SQLite's
  INTEGER is 64-bit already, so only PostgreSQL's column changes.
- ``webhooks.keepalive_at``: when the last keepalive ping of a webhook was claimed, so
  that one node of several sends it.
- ``webhook_deliveries.claimed_by``: the node that leased a delivery to send it, so that
  two nodes never send the same delivery and a restarted node takes its leases back.
- The webhook outbox's cursor row exists from the start, so nodes starting together
  never race to create it.

Revision ID: 0006pg
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006pg"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("recordings", "size", type_=sa.BigInteger, existing_nullable=False)
    op.add_column("webhooks", sa.Column("keepalive_at", sa.Float, nullable=True))
    op.add_column("webhook_deliveries", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.execute(
        "INSERT INTO fleet_cursors (name, event_id) SELECT 'webhooks', 0"
        " WHERE NOT EXISTS (SELECT 1 FROM fleet_cursors WHERE name = 'webhooks')"
    )


def downgrade() -> None:
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_column("claimed_by")
    with op.batch_alter_table("webhooks") as batch:
        batch.drop_column("keepalive_at")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("recordings", "size", type_=sa.Integer, existing_nullable=False)
