"""staff topics: the Telegram forum topic of each hand-off in the staff supergroup

Revision ID: 0112
Revises: 0111
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0112"
down_revision = "0111"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "staff_handoff_topics",
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.String(length=40), nullable=False),
        sa.Column("thread_id", sa.BigInteger(), nullable=True),
        sa.Column("shown_until", sa.BigInteger(), nullable=False),
        sa.Column("ended_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["staff_handoffs.id"],
            name=op.f("fk_staff_handoff_topics_handoff_id_staff_handoffs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("handoff_id", name=op.f("pk_staff_handoff_topics")),
    )
    op.create_index(op.f("ix_staff_handoff_topics_thread_id"), "staff_handoff_topics", ["thread_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_staff_handoff_topics_thread_id"), table_name="staff_handoff_topics")
    op.drop_table("staff_handoff_topics")
