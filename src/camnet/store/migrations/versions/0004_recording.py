"""Recording: the index of recorded files, the tags that protect them, and the capacity
calibration learnt from what was written.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("storage", sa.String(36), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("start", sa.Float, nullable=False),
        sa.Column("end", sa.Float, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("frames", sa.Integer, nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("fps", sa.Integer, nullable=False),
        sa.Column("quality", sa.Integer, nullable=False),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.UniqueConstraint("storage", "file", name="uq_recordings_storage_file"),
    )
    op.create_index("ix_recordings_storage_kind_start", "recordings", ["storage", "kind", "start"])
    op.create_index("ix_recordings_start", "recordings", ["start"])
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("time", sa.Float, nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("created", sa.Float, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_index("ix_tags_time", "tags", ["time"])
    op.create_table(
        "recording_calibration",
        sa.Column("settings", sa.String(64), primary_key=True),
        sa.Column("bytes", sa.Float, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("recording_calibration")
    op.drop_index("ix_tags_time", "tags")
    op.drop_table("tags")
    op.drop_index("ix_recordings_start", "recordings")
    op.drop_index("ix_recordings_storage_kind_start", "recordings")
    op.drop_table("recordings")
