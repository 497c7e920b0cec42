"""The fleet's tables (migration ``0005_fleet``), declared for queries."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Integer, String, Table, Text, UniqueConstraint

from camnet.store.tables import metadata

fleet_devices = Table(
    "fleet_devices",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uuid", String(36), nullable=False, unique=True),
    Column("service", String(128), nullable=False, unique=True),
    Column("name", String(255), nullable=False),
    Column("client_identifier", String(255), nullable=False),
    Column("geo_city", String(255), nullable=False),
    Column("geo_country", String(255), nullable=False),
    Column("group_name", String(255), nullable=False),
    Column("account", String(64), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
)

fleet_keys = Table(
    "fleet_keys",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", String(255), nullable=False),
)

fleet_cursors = Table(
    "fleet_cursors",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("event_id", Integer, nullable=False),
)

image_requests = Table(
    "image_requests",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("device_uuid", String(36), nullable=False),
    Column("requested_at", Float, nullable=False),
    Column("ready_at", Float, nullable=True),
    Column("expires_at", Float, nullable=False),
    Column("state", String(16), nullable=False),
    Column("message", Text, nullable=True),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(64), nullable=False),
    Column("device_uuid", String(36), nullable=True),
    Column("url", Text, nullable=False),
    Column("webhook_type", String(16), nullable=False),
    Column("status", Integer, nullable=False),
    Column("actions", String(255), nullable=False),
    Column("data", JSON, nullable=False),
    Column("secret", String(128), nullable=False),
    Column("from_event", Integer, nullable=False),
    Column("disabled_reason", Text, nullable=True),
    Column("created_at", Float, nullable=False),
    Column("keepalive_at", Float, nullable=True),
    # Ids are never given again (SQLite AUTOINCREMENT; migration 0008wh): a new webhook
    # must not inherit a deleted one's delivery log.
    sqlite_autoincrement=True,
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", Integer, nullable=False),
    Column("event_id", Integer, nullable=False),
    Column("message_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("claimed_by", String(64), nullable=True),
    UniqueConstraint("webhook_id", "event_id", name="uq_webhook_deliveries_event"),
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("webhook_id", Integer, nullable=False),
    Column("delivery_id", Integer, nullable=True),
    Column("message_id", String(64), nullable=True),
    Column("kind", String(16), nullable=False),
    Column("at", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("response_code", Integer, nullable=True),
    Column("latency_ms", Float, nullable=True),
    Column("error", Text, nullable=True),
    Column("next_retry", Float, nullable=True),
)
