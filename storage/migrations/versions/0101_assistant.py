"""assistant: conversations, their Rasa events, chat bindings

Revision ID: 0101
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0101"
down_revision = "0001"
branch_labels = ("assistant",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "assistant_conversations",
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("session_no", sa.Integer(), nullable=False),
        sa.Column("last_event_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("handoff_requested_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_assistant_conversations")),
    )
    op.create_table(
        "assistant_events",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("session_no", sa.Integer(), nullable=False),
        sa.Column("type_name", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["sender_id"],
            ["assistant_conversations.sender_id"],
            name=op.f("fk_assistant_events_sender_id_assistant_conversations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistant_events")),
    )
    with op.batch_alter_table("assistant_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_assistant_events_sender_session", ["sender_id", "session_no", "id"], unique=False
        )
    op.create_table(
        "assistant_bindings",
        sa.Column("sender_id", sa.String(length=200), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("bound_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_assistant_bindings_person_id_persons"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("sender_id", name=op.f("pk_assistant_bindings")),
    )
    with op.batch_alter_table("assistant_bindings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assistant_bindings_person_id"), ["person_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assistant_bindings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assistant_bindings_person_id"))
    op.drop_table("assistant_bindings")
    with op.batch_alter_table("assistant_events", schema=None) as batch_op:
        batch_op.drop_index("ix_assistant_events_sender_session")
    op.drop_table("assistant_events")
    op.drop_table("assistant_conversations")
