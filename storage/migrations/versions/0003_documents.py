"""documents: e-certificate versions and training proofs

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "e_certificates",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certificate_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("verify_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("holder_name", sa.String(length=50), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("certificate_number", sa.String(length=20), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("category", sa.String(length=10), nullable=False),
        sa.Column("institution", sa.String(length=100), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("yearly_hours", sa.JSON(), nullable=False),
        sa.Column("issued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["certificate_id"],
            ["certificates.id"],
            name=op.f("fk_e_certificates_certificate_id_certificates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_e_certificates")),
        sa.UniqueConstraint("certificate_id", "version", name=op.f("uq_e_certificates_certificate_id")),
        sa.UniqueConstraint("verify_code", name=op.f("uq_e_certificates_verify_code")),
    )
    with op.batch_alter_table("e_certificates", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_e_certificates_certificate_id"), ["certificate_id"], unique=False
        )
    op.create_table(
        "training_proofs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enrolment_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("verify_code", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("holder_name", sa.String(length=50), nullable=False),
        sa.Column("id_number_masked", sa.String(length=18), nullable=False),
        sa.Column("certificate_number", sa.String(length=20), nullable=False),
        sa.Column("position", sa.String(length=30), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("institution", sa.String(length=100), nullable=False),
        sa.Column("courses", sa.JSON(), nullable=False),
        sa.Column("professional_hours", sa.Float(), nullable=False),
        sa.Column("general_hours", sa.Float(), nullable=False),
        sa.Column("general_exempt", sa.Boolean(), nullable=False),
        sa.Column("assessment_score", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("clearances_seen", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("status_changed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["learning_enrolments.id"],
            name=op.f("fk_training_proofs_enrolment_id_learning_enrolments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_proofs")),
        sa.UniqueConstraint("enrolment_id", "version", name=op.f("uq_training_proofs_enrolment_id")),
        sa.UniqueConstraint("verify_code", name=op.f("uq_training_proofs_verify_code")),
    )
    with op.batch_alter_table("training_proofs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_training_proofs_enrolment_id"), ["enrolment_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("training_proofs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_training_proofs_enrolment_id"))
    op.drop_table("training_proofs")
    with op.batch_alter_table("e_certificates", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_e_certificates_certificate_id"))
    op.drop_table("e_certificates")
