"""registry: audit record of staff resetting a pre-empted account

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "registry_account_resets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("operator", sa.String(length=50), nullable=False),
        sa.Column("via", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("registry_phone_masked", sa.String(length=11), nullable=True),
        sa.Column("learning_phone_masked", sa.String(length=11), nullable=True),
        sa.Column("photo_removed", sa.Boolean(), nullable=False),
        sa.Column("chats_unbound", sa.Integer(), nullable=False),
        sa.Column("created_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["persons.id"],
            name=op.f("fk_registry_account_resets_person_id_persons"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_registry_account_resets")),
    )
    op.create_index(
        op.f("ix_registry_account_resets_person_id"), "registry_account_resets", ["person_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_registry_account_resets_person_id"), table_name="registry_account_resets")
    op.drop_table("registry_account_resets")
