"""Documents handed to trainees: e-certificate versions (电子培训合格证) and training proofs (学时证明).

Each row keeps what its PDF shows, as it was on the day it was issued, so a document renders the same
every time and its public verification page never shows more than the document itself.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class DocumentStatus:
    """Stored status values; the public page words them 有效 / 已更新 / 已撤销."""

    VALID = "valid"
    SUPERSEDED = "superseded"
    REVOKED = "revoked"


class ECertificate(Base):
    """One version of a certificate's e-certificate; a renewal adds a version and supersedes the last."""

    __tablename__ = "e_certificates"
    __table_args__ = (UniqueConstraint("certificate_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    verify_code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=DocumentStatus.VALID)
    holder_name: Mapped[str] = mapped_column(String(50))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    certificate_number: Mapped[str] = mapped_column(String(20))
    position: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(10))
    institution: Mapped[str] = mapped_column(String(100))
    issued_on: Mapped[date] = mapped_column(Date)
    # [{"cycle_year": 2026, "hours": 32.0, "record": "<hours record id>@<recorded at>"}, ...], newest first
    yearly_hours: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(200))


class TrainingProof(Base):
    """A training proof (学时证明) of one reviewed enrolment.

    It stands while the review it was issued on stands: `reviewed_at` still the enrolment's and no
    学时清零 since (`clearances_seen` is how many the enrolment had when the proof was issued).
    """

    __tablename__ = "training_proofs"
    __table_args__ = (UniqueConstraint("enrolment_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("learning_enrolments.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    verify_code: Mapped[str] = mapped_column(String(32), unique=True)
    status: Mapped[str] = mapped_column(String(12), default=DocumentStatus.VALID)
    holder_name: Mapped[str] = mapped_column(String(50))
    id_number_masked: Mapped[str] = mapped_column(String(18))
    certificate_number: Mapped[str] = mapped_column(String(20))
    position: Mapped[str] = mapped_column(String(30))
    cycle_year: Mapped[int] = mapped_column(Integer)
    institution: Mapped[str] = mapped_column(String(100))
    # [{"title": ..., "kind": "专业" | "通用", "hours": 2.0}, ...] in study order
    courses: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    professional_hours: Mapped[float] = mapped_column(Float)
    general_hours: Mapped[float] = mapped_column(Float)
    general_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    assessment_score: Mapped[int | None] = mapped_column(Integer)
    reviewed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    clearances_seen: Mapped[int] = mapped_column(Integer, default=0)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(200))
