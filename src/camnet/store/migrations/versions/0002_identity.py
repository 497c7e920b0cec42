"""Identity: accounts (tenants), users per account, OAuth clients, API keys, tokens and
extra per-tenant permissions. The c2 users move into the default account.

Revision ID: 0002
Revises: 0001
"""

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

DEFAULT_ACCOUNT = "default"


def upgrade() -> None:
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.bulk_insert(accounts, [{"name": DEFAULT_ACCOUNT, "created_at": datetime.now(UTC)}])
    # users gets an account and a per-account unique name: a new table, rows copied over,
    # which works the same on SQLite (no ALTER of constraints) and PostgreSQL.
    op.create_table(
        "users_v2",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("email", sa.String(254), nullable=True, unique=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("account", "name", name="uq_users_account_name"),
    )
    op.execute(
        "INSERT INTO users_v2 (id, account, name, role, secret_hash, email, enabled, version,"
        " created_at, secret_changed_at)"
        f" SELECT id, '{DEFAULT_ACCOUNT}', name, role, secret_hash, NULL, TRUE, 1, created_at,"
        " secret_changed_at FROM users"
    )
    op.drop_table("users")
    op.rename_table("users_v2", "users")
    op.create_table(
        "clients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("owner", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("grants", sa.JSON, nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("rate_limit", sa.Integer, nullable=True),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("owner", "client_id", name="uq_clients_owner_client_id"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("account", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("account", "name", name="uq_api_keys_account_name"),
    )
    op.create_table(
        "tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("family", sa.String(32), nullable=False, index=True),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        sa.Column("client", sa.Integer, sa.ForeignKey("clients.id"), nullable=True),
        sa.Column("issued_at", sa.Float, nullable=False),
        sa.Column("expires_at", sa.Float, nullable=False),
        sa.Column("used_at", sa.Float, nullable=True),
        sa.Column("revoked_at", sa.Float, nullable=True),
    )
    op.create_table(
        "permissions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("subject_kind", sa.String(8), nullable=False),
        sa.Column("subject_id", sa.Integer, nullable=False),
        sa.Column("tenant", sa.String(64), sa.ForeignKey("accounts.name"), nullable=False),
        sa.Column("action", sa.String(200), nullable=False),
        sa.UniqueConstraint(
            "subject_kind", "subject_id", "tenant", "action", name="uq_permissions"
        ),
    )


def downgrade() -> None:
    op.drop_table("permissions")
    op.drop_table("tokens")
    op.drop_table("api_keys")
    op.drop_table("clients")
    op.drop_table("users")
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("secret_hash", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("secret_changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.drop_table("accounts")
