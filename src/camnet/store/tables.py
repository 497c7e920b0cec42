"""The tables, declared once for queries; migrations create them explicitly."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

accounts = Table(
    "accounts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(64), ForeignKey("accounts.name"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("role", String(16), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("email", String(254), nullable=True, unique=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("secret_changed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("account", "name", name="uq_users_account_name"),
)

clients = Table(
    "clients",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("owner", String(64), ForeignKey("accounts.name"), nullable=False),
    Column("client_id", String(64), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("grants", JSON, nullable=False),
    Column("role", String(16), nullable=False),
    Column("rate_limit", Integer, nullable=True),
    Column("enabled", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("owner", "client_id", name="uq_clients_owner_client_id"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("account", String(64), ForeignKey("accounts.name"), nullable=False),
    Column("name", String(64), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("account", "name", name="uq_api_keys_account_name"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("kind", String(8), nullable=False),
    Column("family", String(32), nullable=False, index=True),
    Column("subject_kind", String(8), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("client", Integer, ForeignKey("clients.id"), nullable=True),
    Column("issued_at", Float, nullable=False),
    Column("expires_at", Float, nullable=False),
    Column("used_at", Float, nullable=True),
    Column("revoked_at", Float, nullable=True),
    # Created by migration 0009: the purge's and the revocation check's indexes.
    Index("ix_tokens_expires_at", "expires_at"),
    Index(
        "ix_tokens_revoked_at",
        "revoked_at",
        postgresql_where=text("revoked_at IS NOT NULL"),
        sqlite_where=text("revoked_at IS NOT NULL"),
    ),
)

permissions = Table(
    "permissions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject_kind", String(8), nullable=False),
    Column("subject_id", Integer, nullable=False),
    Column("tenant", String(64), ForeignKey("accounts.name"), nullable=False),
    Column("action", String(200), nullable=False),
    UniqueConstraint("subject_kind", "subject_id", "tenant", "action", name="uq_permissions"),
)

settings = Table(
    "settings",
    metadata,
    Column("service", String(128), primary_key=True),
    Column("name", String(64), primary_key=True),
    Column("value", JSON, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(16), nullable=False),
    Column("source", String(128), nullable=False),
    Column("account", String(64), nullable=False),
    Column("time", Float, nullable=False),
    Column("payload", JSON, nullable=False),
)

recordings = Table(
    "recordings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(8), nullable=False),
    Column("storage", String(36), nullable=False),
    Column("file", String(255), nullable=False),
    Column("start", Float, nullable=False),
    Column("end", Float, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("frames", Integer, nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("fps", Integer, nullable=False),
    Column("quality", Integer, nullable=False),
    Column("open", Boolean, nullable=False),
    Column("version", Integer, nullable=False),
    UniqueConstraint("storage", "file", name="uq_recordings_storage_file"),
)

tags = Table(
    "tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("time", Float, nullable=False, index=True),
    Column("title", String(255), nullable=False),
    Column("note", Text, nullable=False),
    Column("created", Float, nullable=False),
    Column("version", Integer, nullable=False),
)

recording_calibration = Table(
    "recording_calibration",
    metadata,
    Column("settings", String(64), primary_key=True),
    Column("bytes", Float, nullable=False),
    Column("seconds", Float, nullable=False),
)

network_store = Table(
    "network_store",
    metadata,
    Column("service", String(255), primary_key=True),
    Column("state", JSON, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
