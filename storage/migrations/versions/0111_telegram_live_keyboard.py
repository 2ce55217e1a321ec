"""telegram: the message of each chat whose inline keyboard may still be pressed

Revision ID: 0111
Revises: 0107
"""

import sqlalchemy as sa
from alembic import op

revision = "0111"
down_revision = "0107"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("telegram_chats", sa.Column("keyboard_message_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("telegram_chats") as table:
        table.drop_column("keyboard_message_id")
