"""The fleet dialect: the device registry, image requests, webhooks and their outbox.

The outbox is ``webhook_deliveries``: one row per (webhook, journal event), created by the
dispatcher in the same transaction that advances its cursor over ``events`` (kept in
``fleet_cursors``), so an event committed to the journal always gets its delivery rows.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fleet_devices",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uuid", sa.String(36), nullable=False, unique=True),
        sa.Column("service", sa.String(128), nullable=False, unique=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("client_identifier", sa.String(255), nullable=False),
        sa.Column("geo_city", sa.String(255), nullable=False),
        sa.Column("geo_country", sa.String(255), nullable=False),
        sa.Column("group_name", sa.String(255), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "fleet_keys",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(255), nullable=False),
    )
    op.create_table(
        "fleet_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "image_requests",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("device_uuid", sa.String(36), nullable=False, index=True),
        sa.Column("requested_at", sa.Float, nullable=False),
        sa.Column("ready_at", sa.Float, nullable=True),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=True),
    )
    op.create_table(
        "webhooks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(64), nullable=False, index=True),
        sa.Column("device_uuid", sa.String(36), nullable=True),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("webhook_type", sa.String(16), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("actions", sa.String(255), nullable=False),
        sa.Column("data", sa.JSON, nullable=False),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("from_event", sa.Integer, nullable=False),
        sa.Column("disabled_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("webhook_id", sa.Integer, nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("message_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
    )
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "webhook_attempts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("webhook_id", sa.Integer, nullable=False, index=True),
        sa.Column("delivery_id", sa.Integer, nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("response_code", sa.Integer, nullable=True),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("error", sa.Text, nullable=True),
        sa.Column("next_retry", sa.Float, nullable=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_attempts")
    op.drop_index("ix_webhook_deliveries_due", "webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("image_requests")
    op.drop_table("fleet_cursors")
    op.drop_table("fleet_keys")
    op.drop_table("fleet_devices")
