"""The continuing-education platform (继续教育平台): accounts, catalog, enrolments, watching, assessment.

An enrolment is one certificate in one cycle (calendar year); its course order is a snapshot of
the chosen package, so a later catalog reload never changes what someone already studies.
Progress is the credited seconds of each ordered course; every refused heartbeat is kept.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from storage.models.base import Base, Timestamped
from storage.models.registry import Certificate, Person
from storage.types import UTCDateTime, utcnow


class CourseKind:
    """Stored values of `Course.kind`, as the guide words them."""

    GENERAL = "通用"
    PROFESSIONAL = "专业"


class LearningAccount(Timestamped, Base):
    """A personal account of the platform; separate from the management system's, phone verified by SMS."""

    __tablename__ = "learning_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    phone: Mapped[str] = mapped_column(String(11), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    certificates_pulled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()


class LearningCertificate(Base):
    """A registry certificate the platform pulled into the trainee's account (only these can be enrolled)."""

    __tablename__ = "learning_certificates"
    __table_args__ = (UniqueConstraint("account_id", "certificate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(
        ForeignKey("learning_accounts.id", ondelete="CASCADE"), index=True
    )
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    pulled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    certificate: Mapped[Certificate] = relationship()


class Course(Timestamped, Base):
    """A catalog course: `hours` (学时) is what is recorded, `duration_seconds` what must be watched."""

    __tablename__ = "learning_courses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(4))
    positions: Mapped[list[str]] = mapped_column(JSON, default=list)
    hours: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    media: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CoursePackage(Timestamped, Base):
    """A recommended course package (推荐课程包) for some positions."""

    __tablename__ = "learning_packages"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    positions: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    items: Mapped[list[PackageCourse]] = relationship(
        order_by="PackageCourse.seq", cascade="all, delete-orphan", back_populates="package"
    )


class PackageCourse(Base):
    """One course of a package, in the order it is studied."""

    __tablename__ = "learning_package_courses"
    __table_args__ = (UniqueConstraint("package_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    package_id: Mapped[int] = mapped_column(ForeignKey("learning_packages.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)

    package: Mapped[CoursePackage] = relationship(back_populates="items")
    course: Mapped[Course] = relationship()


class Enrolment(Base):
    """One certificate in one cycle: the course order (课程订单) and where it stands.

    `courses_completed_at` is set when every ordered course is watched; `reviewed_at` when the hours
    review passed (courses complete and assessment passed) and the hours went to the registry.
    """

    __tablename__ = "learning_enrolments"
    __table_args__ = (UniqueConstraint("certificate_id", "cycle_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_number: Mapped[str] = mapped_column(String(24), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    certificate_id: Mapped[int] = mapped_column(ForeignKey("certificates.id", ondelete="CASCADE"))
    cycle_year: Mapped[int] = mapped_column(Integer)
    package_id: Mapped[int] = mapped_column(ForeignKey("learning_packages.id", ondelete="RESTRICT"))
    package_title: Mapped[str] = mapped_column(String(100))
    general_exempt: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    courses_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assessment_passed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours_record_id: Mapped[int | None] = mapped_column(ForeignKey("hours_records.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship()
    certificate: Mapped[Certificate] = relationship()
    courses: Mapped[list[EnrolmentCourse]] = relationship(
        order_by="EnrolmentCourse.seq", back_populates="enrolment", cascade="all, delete-orphan"
    )


class EnrolmentCourse(Base):
    """A course of an order with its credited watch time; the credited seconds are the resume point."""

    __tablename__ = "learning_enrolment_courses"
    __table_args__ = (UniqueConstraint("enrolment_id", "course_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"))
    course_id: Mapped[int] = mapped_column(ForeignKey("learning_courses.id", ondelete="RESTRICT"))
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(4))
    title: Mapped[str] = mapped_column(String(100))
    hours: Mapped[float] = mapped_column(Float)
    duration_seconds: Mapped[int] = mapped_column(Integer)
    credited_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    enrolment: Mapped[Enrolment] = relationship(back_populates="courses")
    course: Mapped[Course] = relationship()


class WatchSession(Base):
    """One trainee watching one ordered course; a new session of the same trainee ends this one.

    `public_id` names the session in URLs; `started_at` and `credited_in_session` bound the whole
    session's credit by the wall-clock time since it began. `previous_report_at` is when the accepted
    report before the last one arrived: the player was at the credited position no earlier than that.
    """

    __tablename__ = "learning_watch_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    enrolment_course_id: Mapped[int] = mapped_column(
        ForeignKey("learning_enrolment_courses.id", ondelete="CASCADE"), index=True
    )
    free_replay: Mapped[bool] = mapped_column(Boolean, default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    start_position: Mapped[float] = mapped_column(Float, default=0.0)
    credited_in_session: Mapped[float] = mapped_column(Float, default=0.0)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_position: Mapped[float] = mapped_column(Float, default=0.0)
    last_report_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    previous_report_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(20))


class PlayerLinkUse(Base):
    """A player link that was redeemed: each link logs the player in once, for its own order."""

    __tablename__ = "learning_player_link_uses"

    id: Mapped[int] = mapped_column(primary_key=True)
    nonce: Mapped[str] = mapped_column(String(32), unique=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"))
    redeemed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class RejectedReport(Base):
    """A heartbeat the server refused, with why: the evidence for 学时清零 decisions."""

    __tablename__ = "learning_rejected_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("learning_watch_sessions.id", ondelete="CASCADE")
    )
    reason: Mapped[str] = mapped_column(String(30))
    seq: Mapped[int | None] = mapped_column(Integer)
    reported_position: Mapped[float | None] = mapped_column(Float)
    credited_position: Mapped[float | None] = mapped_column(Float)
    detail: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HoursClearance(Base):
    """An operator's 学时清零 of an enrolment: what was cleared and why."""

    __tablename__ = "learning_hours_clearances"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("learning_enrolments.id", ondelete="CASCADE"))
    reason: Mapped[str] = mapped_column(String(200))
    cleared_seconds: Mapped[float] = mapped_column(Float)
    hours_record_removed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Question(Timestamped, Base):
    """A question of the bank; `positions` empty means every position; `answer` is the option letters."""

    __tablename__ = "learning_questions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    positions: Mapped[list[str]] = mapped_column(JSON, default=list)
    stem: Mapped[str] = mapped_column(Text)
    options: Mapped[list[str]] = mapped_column(JSON)
    answer: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class AssessmentAttempt(Base):
    """One paper (考核试卷) of an enrolment: the drawn questions, the answers so far, the result.

    At most one paper of an enrolment is open (not handed in), however many draws run at once.
    """

    __tablename__ = "learning_assessment_attempts"
    __table_args__ = (
        Index(
            "uq_learning_assessment_attempts_open",
            "enrolment_id",
            unique=True,
            sqlite_where=text("submitted_at IS NULL"),
            postgresql_where=text("submitted_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(
        ForeignKey("learning_enrolments.id", ondelete="CASCADE"), index=True
    )
    question_ids: Mapped[list[int]] = mapped_column(JSON)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    score: Mapped[int | None] = mapped_column(Integer)
    passed: Mapped[bool | None] = mapped_column(Boolean)


class LearningEvent(Base):
    """Something the assistant should tell the trainee (e.g. 继续教育完成); a later job delivers it."""

    __tablename__ = "learning_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
