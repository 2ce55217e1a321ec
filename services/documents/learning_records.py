"""Read-only queries over the continuing-education platform's tables that a training proof needs
besides the learning service's own `training_record`: finding the enrolment, and telling whether the
review a proof was issued on still stands. This module never writes those tables.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Certificate, Enrolment, HoursClearance


async def enrolment_of(
    session: AsyncSession, *, person_id: int, certificate_number: str, cycle_year: int
) -> Enrolment | None:
    """The person's enrolment of that certificate and cycle."""
    return await session.scalar(
        select(Enrolment)
        .join(Certificate, Certificate.id == Enrolment.certificate_id)
        .where(
            Enrolment.person_id == person_id,
            Certificate.certificate_number == certificate_number.strip(),
            Enrolment.cycle_year == cycle_year,
        )
    )


async def clearance_count(session: AsyncSession, enrolment_id: int) -> int:
    """How many times the enrolment's hours were cleared (学时清零)."""
    count = await session.scalar(
        select(func.count()).select_from(HoursClearance).where(HoursClearance.enrolment_id == enrolment_id)
    )
    return int(count or 0)


async def review_of(session: AsyncSession, enrolment_id: int) -> datetime | None:
    """When the enrolment's hours review passed, or None when it has not (or no longer has)."""
    return await session.scalar(select(Enrolment.reviewed_at).where(Enrolment.id == enrolment_id))
