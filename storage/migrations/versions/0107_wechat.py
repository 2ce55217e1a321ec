"""wechat: the message inbox, the shared access_token, button payloads, unfollowed followers

Revision ID: 0107
Revises: 0106
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0107"
down_revision = "0106"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "wechat_messages",
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("answers", sa.Text(), nullable=True),
        sa.Column("sent", sa.Integer(), nullable=False),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_messages")),
    )
    op.create_index("ix_wechat_messages_state", "wechat_messages", ["state", "claimed_until"])
    op.create_table(
        "wechat_tokens",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("access_token", sa.Text(), nullable=True),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refreshing_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("app_id", name=op.f("pk_wechat_tokens")),
    )
    op.create_table(
        "wechat_buttons",
        sa.Column("key", sa.String(length=20), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_wechat_buttons")),
    )
    op.create_table(
        "wechat_followers",
        sa.Column("openid", sa.String(length=64), nullable=False),
        sa.Column("unfollowed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("openid", name=op.f("pk_wechat_followers")),
    )


def downgrade() -> None:
    op.drop_table("wechat_followers")
    op.drop_table("wechat_buttons")
    op.drop_table("wechat_tokens")
    op.drop_index("ix_wechat_messages_state", table_name="wechat_messages")
    op.drop_table("wechat_messages")
