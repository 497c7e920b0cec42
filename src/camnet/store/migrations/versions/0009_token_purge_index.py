"""Indexes for the token table's purge and for the revocation check (issue 19, item 7).

``ix_tokens_expires_at`` lets the purge of expired tokens find them without a scan;
``ix_tokens_revoked_at`` holds only revoked tokens (a partial index on both engines), so
the identity change check (count and latest of the revocations) reads that small index
instead of every token.

Revision ID: 0009
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008wh"
branch_labels = None
depends_on = None

REVOKED = sa.text("revoked_at IS NOT NULL")


def upgrade() -> None:
    op.create_index("ix_tokens_expires_at", "tokens", ["expires_at"])
    op.create_index(
        "ix_tokens_revoked_at",
        "tokens",
        ["revoked_at"],
        postgresql_where=REVOKED,
        sqlite_where=REVOKED,
    )


def downgrade() -> None:
    op.drop_index("ix_tokens_revoked_at", "tokens")
    op.drop_index("ix_tokens_expires_at", "tokens")
