"""Read-only queries over the continuing-education platform's tables that a training proof needs.

The learning service owns these tables; this module only reads them, so the proof never changes
what the platform recorded.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from storage.models import AssessmentAttempt, Certificate, Enrolment, HoursClearance, HoursRecord


async def enrolment_of(
    session: AsyncSession, *, person_id: int, certificate_number: str, cycle_year: int
) -> Enrolment | None:
    """The person's enrolment of that certificate and cycle, with its courses, person and certificate."""
    return await session.scalar(
        select(Enrolment)
        .join(Certificate, Certificate.id == Enrolment.certificate_id)
        .where(
            Enrolment.person_id == person_id,
            Certificate.certificate_number == certificate_number.strip(),
            Enrolment.cycle_year == cycle_year,
        )
        .options(
            selectinload(Enrolment.courses),
            selectinload(Enrolment.person),
            selectinload(Enrolment.certificate),
        )
    )


async def best_passing_score(session: AsyncSession, enrolment_id: int) -> int | None:
    score = await session.scalar(
        select(func.max(AssessmentAttempt.score)).where(
            AssessmentAttempt.enrolment_id == enrolment_id, AssessmentAttempt.passed.is_(True)
        )
    )
    return int(score) if score is not None else None


async def recorded_hours(session: AsyncSession, enrolment: Enrolment) -> HoursRecord | None:
    """The hours record the review wrote to the management system, if it is still there."""
    if enrolment.hours_record_id is None:
        return None
    return await session.get(HoursRecord, enrolment.hours_record_id)


async def clearance_count(session: AsyncSession, enrolment_id: int) -> int:
    """How many times the enrolment's hours were cleared (学时清零)."""
    count = await session.scalar(
        select(func.count()).select_from(HoursClearance).where(HoursClearance.enrolment_id == enrolment_id)
    )
    return int(count or 0)


async def review_of(session: AsyncSession, enrolment_id: int) -> datetime | None:
    """When the enrolment's hours review passed, or None when it has not (or no longer has)."""
    return await session.scalar(select(Enrolment.reviewed_at).where(Enrolment.id == enrolment_id))
