"""notices: who must be told what, operator broadcasts, opt-outs

Revision ID: 0021
Revises: 0013
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0021"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "notice_broadcasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=False),
        sa.Column("start_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("operator", sa.String(length=50), nullable=False),
        sa.Column("cancelled_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice_broadcasts")),
    )
    op.create_table(
        "notices",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("dedupe_key", sa.String(length=120), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("broadcast_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("not_before", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("claim_token", sa.String(length=32), nullable=True),
        sa.Column("claimed_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("via", sa.String(length=20), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=True),
        sa.Column("detail", sa.String(length=200), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_notices_person_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["broadcast_id"],
            ["notice_broadcasts.id"],
            name=op.f("fk_notices_broadcast_id_notice_broadcasts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notices")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_notices_dedupe_key")),
    )
    op.create_index(op.f("ix_notices_person_id"), "notices", ["person_id"])
    op.create_index(op.f("ix_notices_broadcast_id"), "notices", ["broadcast_id"])
    op.create_index(op.f("ix_notices_finished_at"), "notices", ["finished_at"])
    op.create_index("ix_notices_state_due", "notices", ["state", "not_before"])
    op.create_table(
        "notice_opt_outs",
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("opted_out_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_notice_opt_outs_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_notice_opt_outs")),
    )


def downgrade() -> None:
    op.drop_table("notice_opt_outs")
    op.drop_index("ix_notices_state_due", table_name="notices")
    op.drop_index(op.f("ix_notices_finished_at"), table_name="notices")
    op.drop_index(op.f("ix_notices_broadcast_id"), table_name="notices")
    op.drop_index(op.f("ix_notices_person_id"), table_name="notices")
    op.drop_table("notices")
    op.drop_table("notice_broadcasts")
