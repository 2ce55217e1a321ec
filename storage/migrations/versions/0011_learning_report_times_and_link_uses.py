"""learning: when the report before the last arrived; player links redeemed once; one open paper

Revision ID: 0011
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0011"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("learning_watch_sessions") as batch:
        batch.add_column(
            sa.Column("previous_report_at", storage.types.UTCDateTime(timezone=True), nullable=True)
        )
    # For sessions already open the session's start is the earliest the player can have been there.
    op.execute("UPDATE learning_watch_sessions SET previous_report_at = started_at")
    with op.batch_alter_table("learning_watch_sessions") as batch:
        batch.alter_column(
            "previous_report_at", existing_type=storage.types.UTCDateTime(timezone=True), nullable=False
        )
    op.create_table(
        "learning_player_link_uses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=32), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("redeemed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["learning_enrolments.id"],
            name=op.f("fk_learning_player_link_uses_enrolment_id_learning_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learning_player_link_uses")),
        sa.UniqueConstraint("nonce", name=op.f("uq_learning_player_link_uses_nonce")),
    )

    # Concurrent draws could open two papers of one order; answers went to the first: keep that one.
    op.execute(
        "DELETE FROM learning_assessment_attempts WHERE submitted_at IS NULL AND id > ("
        " SELECT MIN(a.id) FROM learning_assessment_attempts a"
        " WHERE a.enrolment_id = learning_assessment_attempts.enrolment_id AND a.submitted_at IS NULL)"
    )
    op.create_index(
        "uq_learning_assessment_attempts_open",
        "learning_assessment_attempts",
        ["enrolment_id"],
        unique=True,
        sqlite_where=sa.text("submitted_at IS NULL"),
        postgresql_where=sa.text("submitted_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("uq_learning_assessment_attempts_open", table_name="learning_assessment_attempts")
    op.drop_table("learning_player_link_uses")
    with op.batch_alter_table("learning_watch_sessions") as batch:
        batch.drop_column("previous_report_at")
