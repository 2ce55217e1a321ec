"""assistant: messages pushed into REST and web chats outside a turn

Revision ID: 0103
Revises: 0102
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0103"
down_revision = "0102"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistant_pushes",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_pushes")),
    )
    op.create_index("ix_assistant_pushes_sender", "assistant_pushes", ["sender_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_assistant_pushes_sender", table_name="assistant_pushes")
    op.drop_table("assistant_pushes")
