"""The network Store's data when a node runs alone: one JSON object per service.

Revision ID: 0007
Revises: 0006pg
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006pg"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "network_store",
        sa.Column("service", sa.String(255), primary_key=True),
        sa.Column("state", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("network_store")
