"""The management system (管理系统): people, their accounts, photos, certificates and hours records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Timestamped
from storage.types import UTCDateTime, utcnow


class Person(Timestamped, Base):
    """A trainee as the provincial authority knows them; exists before any account (certificate import)."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(50))
    employer: Mapped[str | None] = mapped_column(String(100))
    education: Mapped[str | None] = mapped_column(String(20))

    certificates: Mapped[list[Certificate]] = relationship(back_populates="person", order_by="Certificate.id")


class RegistryAccount(Timestamped, Base):
    """A personal account of the management system: login is the ID number, one phone one account."""

    __tablename__ = "registry_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


class AuthToken(Base):
    """A login session; only the SHA-256 of the bearer token is stored."""

    __tablename__ = "auth_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    system: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Photo(Base):
    """The one photo of a person; the guide says it cannot be changed once uploaded."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    path: Mapped[str] = mapped_column(String(300))
    sha256: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(30))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Certificate(Timestamped, Base):
    """A position certificate uploaded by the provincial authority (证书管理)."""

    __tablename__ = "certificates"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    certificate_number: Mapped[str] = mapped_column(String(20), unique=True)
    position: Mapped[str] = mapped_column(String(30))
    category: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10))
    remark: Mapped[str] = mapped_column(String(100), default="")
    issued_on: Mapped[date] = mapped_column(Date)

    person: Mapped[Person] = relationship(back_populates="certificates")
    hours_records: Mapped[list[HoursRecord]] = relationship(
        back_populates="certificate", order_by="HoursRecord.cycle_year"
    )


class HoursRecord(Base):
    """Continuing-education hours recorded for one certificate and one cycle (calendar year)."""

    __tablename__ = "hours_records"
    __table_args__ = (UniqueConstraint("certificate_id", "cycle_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    cycle_year: Mapped[int] = mapped_column(Integer)
    professional_hours: Mapped[float] = mapped_column(Float)
    general_hours: Mapped[float] = mapped_column(Float)
    general_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(50), default="继续教育平台")
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship(back_populates="hours_records")

    @property
    def total_hours(self) -> float:
        return self.professional_hours + self.general_hours


class AccountReset(Base):
    """Staff reset a person's accounts after checking who they are: who, when, why and what went.

    The ID number and phones are kept masked; `person_id` finds the person while they exist.
    """

    __tablename__ = "registry_account_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    operator: Mapped[str] = mapped_column(String(50))
    via: Mapped[str] = mapped_column(String(10))  # api | cli
    reason: Mapped[str] = mapped_column(String(200))
    registry_phone_masked: Mapped[str | None] = mapped_column(String(11))
    learning_phone_masked: Mapped[str | None] = mapped_column(String(11))
    photo_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    chats_unbound: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
