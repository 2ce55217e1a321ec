"""chatlinks: one-time codes that bind another chat (Telegram's /start <code>) to a bound chat's person

Revision ID: 0022
Revises: 0021
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chat_link_codes",
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("made_by", sa.String(length=200), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("used_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("used_by", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_chat_link_codes_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("code_hash", name=op.f("pk_chat_link_codes")),
    )
    with op.batch_alter_table("chat_link_codes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chat_link_codes_expires_at"), ["expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_chat_link_codes_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("chat_link_codes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_link_codes_person_id"))
        batch_op.drop_index(batch_op.f("ix_chat_link_codes_expires_at"))
    op.drop_table("chat_link_codes")
