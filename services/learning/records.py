"""What a training proof (学时证明) shows, read in one place for the documents service.

`training_record` answers only for an enrolment whose hours review is done: person, certificate,
cycle, courses with hours, assessment result, total hours, institution and review date.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.learning.completion import hours_of
from services.settings import Settings
from storage.models import AssessmentAttempt, Certificate, Enrolment


@dataclass(frozen=True)
class CourseLine:
    title: str
    kind: str
    hours: float
    completed_at: datetime


@dataclass(frozen=True)
class TrainingRecord:
    enrolment_id: int
    order_number: str
    person_id: int
    name: str
    id_number: str
    certificate_id: int
    certificate_number: str
    position: str
    category: str
    cycle_year: int
    package_title: str
    general_exempt: bool
    courses: list[CourseLine]
    professional_hours: float
    general_hours: float
    total_hours: float
    assessment_score: int
    assessment_passed_at: datetime
    reviewed_at: datetime
    institution: str


async def training_record(
    session: AsyncSession, enrolment_id: int, settings: Settings
) -> TrainingRecord | None:
    """The proof's content, or None while the enrolment has not passed the hours review."""
    enrolment = await session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id)
        .options(
            selectinload(Enrolment.courses),
            selectinload(Enrolment.person),
            selectinload(Enrolment.certificate).selectinload(Certificate.person),
        )
    )
    if enrolment is None or enrolment.reviewed_at is None or enrolment.assessment_passed_at is None:
        return None
    score = await session.scalar(
        select(AssessmentAttempt.score)
        .where(AssessmentAttempt.enrolment_id == enrolment_id, AssessmentAttempt.passed.is_(True))
        .order_by(AssessmentAttempt.id.desc())
        .limit(1)
    )
    professional, general = hours_of(enrolment)
    return TrainingRecord(
        enrolment_id=enrolment.id,
        order_number=enrolment.order_number,
        person_id=enrolment.person_id,
        name=enrolment.person.name,
        id_number=enrolment.person.id_number,
        certificate_id=enrolment.certificate_id,
        certificate_number=enrolment.certificate.certificate_number,
        position=enrolment.certificate.position,
        category=enrolment.certificate.category,
        cycle_year=enrolment.cycle_year,
        package_title=enrolment.package_title,
        general_exempt=enrolment.general_exempt,
        courses=[
            CourseLine(title=c.title, kind=c.kind, hours=c.hours, completed_at=c.completed_at)
            for c in enrolment.courses
            if c.completed_at is not None
        ],
        professional_hours=professional,
        general_hours=general,
        total_hours=professional + general,
        assessment_score=int(score or 0),
        assessment_passed_at=enrolment.assessment_passed_at,
        reviewed_at=enrolment.reviewed_at,
        institution=settings.learning_institution,
    )
