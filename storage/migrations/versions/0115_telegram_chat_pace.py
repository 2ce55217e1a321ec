"""telegram chat pace: the moment a chat may get its next message, kept for every process

Revision ID: 0115
Revises: 0114
"""

import sqlalchemy as sa
from alembic import op

revision = "0115"
down_revision = "0114"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telegram_chats", sa.Column("send_after", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats") as batch:
        batch.drop_column("send_after")
