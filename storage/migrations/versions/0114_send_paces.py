"""send paces: one row per platform, the moment its next message may go, shared by every process

Revision ID: 0114
Revises: 0112
"""

import sqlalchemy as sa
from alembic import op

revision = "0114"
down_revision = "0112"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "send_paces",
        sa.Column("name", sa.String(length=20), nullable=False),
        sa.Column("next_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_send_paces")),
    )


def downgrade() -> None:
    op.drop_table("send_paces")
