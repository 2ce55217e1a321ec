"""How an order looks to its trainee: progress, assessment state and what to do next."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.context import Backend
from services.learning.enrolment import blocking_enrolment, load_enrolment
from services.learning.schemas import AssessmentState, EnrolmentOut, OrderCourseOut
from storage.models import AssessmentAttempt, Enrolment


def _status(enrolment: Enrolment, blocked: bool) -> str:
    if enrolment.reviewed_at is not None:
        return "已完成"
    if enrolment.courses_completed_at is not None:
        return "待考核"
    if blocked:
        return "待学习（请先学完先报名的证书）"
    return "学习中"


async def _out(session: AsyncSession, backend: Backend, enrolment: Enrolment) -> EnrolmentOut:
    latest = await session.scalar(
        select(AssessmentAttempt)
        .where(AssessmentAttempt.enrolment_id == enrolment.id)
        .order_by(AssessmentAttempt.id.desc())
        .limit(1)
    )
    retry_at = None
    if latest is not None and latest.submitted_at is not None and not latest.passed:
        retry_at = latest.submitted_at + timedelta(minutes=backend.settings.learning_retry_cooldown_minutes)
    blocker = None
    if enrolment.courses_completed_at is None:
        blocker = await blocking_enrolment(session, enrolment)
    duration = sum(c.duration_seconds for c in enrolment.courses) or 1
    credited = sum(min(c.credited_seconds, c.duration_seconds) for c in enrolment.courses)
    return EnrolmentOut(
        id=enrolment.id,
        order_number=enrolment.order_number,
        certificate_number=enrolment.certificate.certificate_number,
        position=enrolment.certificate.position,
        cycle_year=enrolment.cycle_year,
        package_title=enrolment.package_title,
        general_exempt=enrolment.general_exempt,
        created_at=enrolment.created_at,
        courses=[
            OrderCourseOut(
                seq=c.seq,
                title=c.title,
                kind=c.kind,
                hours=c.hours,
                duration_seconds=c.duration_seconds,
                credited_seconds=round(c.credited_seconds, 1),
                completed=c.completed_at is not None,
            )
            for c in enrolment.courses
        ],
        total_hours=sum(c.hours for c in enrolment.courses),
        progress_percent=int(100 * credited // duration),
        courses_completed=enrolment.courses_completed_at is not None,
        assessment=AssessmentState(
            passed=enrolment.assessment_passed_at is not None,
            last_score=latest.score if latest is not None else None,
            retry_at=retry_at,
            in_progress=latest is not None and latest.submitted_at is None,
        ),
        reviewed=enrolment.reviewed_at is not None,
        status=_status(enrolment, blocker is not None),
        blocked_by=(
            f"请先学完先报名的{blocker.certificate.position}证书（{blocker.certificate.certificate_number}）的课程"
            if blocker is not None
            else None
        ),
    )


async def enrolment_out(backend: Backend, person_id: int, enrolment_id: int) -> EnrolmentOut:
    async with backend.sessions() as session:
        enrolment = await load_enrolment(session, person_id, enrolment_id)
        return await _out(session, backend, enrolment)


async def enrolments_of(backend: Backend, person_id: int) -> list[EnrolmentOut]:
    async with backend.sessions() as session:
        ids = await session.scalars(
            select(Enrolment.id)
            .where(Enrolment.person_id == person_id)
            .order_by(Enrolment.cycle_year.desc(), Enrolment.id)
        )
        return [await _out(session, backend, await load_enrolment(session, person_id, i)) for i in list(ids)]
