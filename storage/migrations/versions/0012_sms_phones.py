"""sms: one row per phone, locked while a code request for it is judged

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sms_phones",
        sa.Column("phone", sa.String(length=11), nullable=False),
        sa.Column("last_request_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sms_phones")),
    )


def downgrade() -> None:
    op.drop_table("sms_phones")
