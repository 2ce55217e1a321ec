"""staff: accounts, console sessions, hand-offs with their messages, the audit log

A conversation waiting for staff (status waiting_for_staff) is now `waiting` and has a hand-off in
the queue, so nobody who asked for a person before the upgrade is forgotten.

Revision ID: 0106
Revises: 0104
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0106"
down_revision = "0104"
branch_labels = None
depends_on = None


def _id() -> sa.Column[int]:
    return sa.Column(
        "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "staff_members",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("login", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_members")),
        sa.UniqueConstraint("login", name=op.f("uq_staff_members_login")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_sessions_staff_id_staff_members"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_staff_sessions")),
    )
    op.create_index(op.f("ix_staff_sessions_staff_id"), "staff_sessions", ["staff_id"])
    op.create_table(
        "staff_handoffs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("assigned_to", sa.Integer(), nullable=True),
        sa.Column("requested_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("context_until", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("assigned_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["assistant_conversations.sender_id"],
            name=op.f("fk_staff_handoffs_sender_id_assistant_conversations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["assigned_to"],
            ["staff_members.id"],
            name=op.f("fk_staff_handoffs_assigned_to_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_handoffs")),
    )
    op.create_index(op.f("ix_staff_handoffs_sender_id"), "staff_handoffs", ["sender_id"])
    op.create_index("ix_staff_handoffs_status", "staff_handoffs", ["status", "id"])
    op.create_table(
        "staff_handoff_messages",
        _id(),
        sa.Column("handoff_id", sa.Integer(), nullable=False),
        sa.Column("by", sa.String(length=10), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("photo", sa.String(length=80), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["staff_handoffs.id"],
            name=op.f("fk_staff_handoff_messages_handoff_id_staff_handoffs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_handoff_messages_staff_id_staff_members"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_handoff_messages")),
    )
    op.create_index("ix_staff_handoff_messages_handoff", "staff_handoff_messages", ["handoff_id", "id"])
    op.create_table(
        "staff_audit",
        _id(),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("handoff_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"],
            ["staff_members.id"],
            name=op.f("fk_staff_audit_staff_id_staff_members"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["handoff_id"],
            ["staff_handoffs.id"],
            name=op.f("fk_staff_audit_handoff_id_staff_handoffs"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_audit")),
    )
    op.execute(
        "INSERT INTO staff_handoffs (sender_id, status, requested_at) "
        "SELECT sender_id, 'waiting', COALESCE(handoff_requested_at, last_event_at) "
        "FROM assistant_conversations WHERE status = 'waiting_for_staff'"
    )
    op.execute("UPDATE assistant_conversations SET status = 'waiting' WHERE status = 'waiting_for_staff'")


def downgrade() -> None:
    op.execute(
        "UPDATE assistant_conversations SET status = 'waiting_for_staff' "
        "WHERE status IN ('waiting', 'assigned')"
    )
    op.execute("UPDATE assistant_conversations SET status = 'bot' WHERE status = 'closed'")
    op.drop_table("staff_audit")
    op.drop_index("ix_staff_handoff_messages_handoff", table_name="staff_handoff_messages")
    op.drop_table("staff_handoff_messages")
    op.drop_index("ix_staff_handoffs_status", table_name="staff_handoffs")
    op.drop_index(op.f("ix_staff_handoffs_sender_id"), table_name="staff_handoffs")
    op.drop_table("staff_handoffs")
    op.drop_index(op.f("ix_staff_sessions_staff_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
    op.drop_table("staff_members")
