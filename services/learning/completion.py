"""The hours review (学时审核) and the operator's 学时清零.

The review runs when an enrolment's courses are all watched and its assessment is passed: the
hours go to the registry, the certificate returns to 正常 with its remark cleared, a completion
notice is recorded (the guide's SMS at once when no chat is bound) and a completion event is
stored. All of it is written in the caller's transaction, so it happens whole or not at all, and
only once per enrolment.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.context import Backend
from services.errors import AppError
from services.notices import facts as notices
from services.notices.manners import quiet_hours
from services.registry.hours import record_hours, withdraw_hours
from storage.models import (
    AssessmentAttempt,
    Certificate,
    Enrolment,
    EnrolmentCourse,
    HoursClearance,
    LearningAccount,
    LearningEvent,
    WatchSession,
)
from storage.models.learning import CourseKind

COMPLETION_SMS = (
    "【温馨提示】尊敬的学员，恭喜您的继续教育已完成，可登录管理系统查看学时记录，获取最新的电子证书。"
)
COMPLETED_EVENT = "learning_completed"


def hours_of(enrolment: Enrolment) -> tuple[float, float]:
    """Professional and general hours of the order's courses (general is 0 when exempt)."""
    professional = sum(c.hours for c in enrolment.courses if c.kind == CourseKind.PROFESSIONAL)
    general = sum(c.hours for c in enrolment.courses if c.kind == CourseKind.GENERAL)
    return professional, general


async def review_if_ready(session: AsyncSession, backend: Backend, enrolment_id: int) -> bool:
    """Run the hours review once the enrolment qualifies; returns whether it ran now."""
    enrolment = await session.get(
        Enrolment,
        enrolment_id,
        with_for_update=True,
        populate_existing=True,
        options=[selectinload(Enrolment.courses), selectinload(Enrolment.certificate)],
    )
    assert enrolment is not None
    if (
        enrolment.reviewed_at is not None
        or enrolment.courses_completed_at is None
        or enrolment.assessment_passed_at is None
    ):
        return False
    now = backend.now()
    professional, general = hours_of(enrolment)
    record = await record_hours(
        session,
        certificate_id=enrolment.certificate_id,
        cycle_year=enrolment.cycle_year,
        professional_hours=professional,
        general_hours=general,
        general_exempt=enrolment.general_exempt,
        now=now,
    )
    enrolment.reviewed_at = now
    enrolment.hours_record_id = record.id
    phone = await session.scalar(
        select(LearningAccount.phone).where(LearningAccount.person_id == enrolment.person_id)
    )
    await notices.completion(
        session,
        sms=backend.sms,
        person_id=enrolment.person_id,
        enrolment_id=enrolment.id,
        phone=phone,
        text=COMPLETION_SMS,
        quiet=quiet_hours(backend.settings.notices_quiet_hours),
        params={
            "certificate_number": enrolment.certificate.certificate_number,
            "position": enrolment.certificate.position,
            "cycle_year": enrolment.cycle_year,
            "total_hours": professional + general,
        },
        now=now,
    )
    session.add(
        LearningEvent(
            person_id=enrolment.person_id,
            kind=COMPLETED_EVENT,
            payload={
                "enrolment_id": enrolment.id,
                "order_number": enrolment.order_number,
                "certificate_number": enrolment.certificate.certificate_number,
                "position": enrolment.certificate.position,
                "cycle_year": enrolment.cycle_year,
                "total_hours": professional + general,
            },
            created_at=now,
        )
    )
    await session.flush()
    return True


async def clear_hours(
    backend: Backend, *, certificate_number: str, cycle_year: int, reason: str
) -> HoursClearance:
    """学时清零: the enrolment starts over; any hours it put in the registry are withdrawn."""
    reason = reason.strip()
    if len(reason) < 2:
        raise AppError(422, "reason_required", "请写明学时清零的原因")
    now = backend.now()
    async with backend.transaction() as session:
        enrolment = await session.scalar(
            select(Enrolment)
            .join(Certificate, Certificate.id == Enrolment.certificate_id)
            .where(
                Enrolment.cycle_year == cycle_year,
                Certificate.certificate_number == certificate_number.strip(),
            )
            .options(selectinload(Enrolment.courses))
            .with_for_update(of=Enrolment)
        )
        if enrolment is None:
            raise AppError(
                404, "enrolment_not_found", f"证书 {certificate_number} 没有{cycle_year}年度的课程订单"
            )
        cleared = sum(course.credited_seconds for course in enrolment.courses)
        course_ids = [course.id for course in enrolment.courses]
        await session.execute(
            update(WatchSession)
            .where(WatchSession.enrolment_course_id.in_(course_ids), WatchSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="cleared")
        )
        await session.execute(
            update(EnrolmentCourse)
            .where(EnrolmentCourse.enrolment_id == enrolment.id)
            .values(credited_seconds=0.0, completed_at=None)
        )
        await session.execute(
            update(AssessmentAttempt)
            .where(AssessmentAttempt.enrolment_id == enrolment.id, AssessmentAttempt.submitted_at.is_(None))
            .values(submitted_at=now, score=0, passed=False)
        )
        removed = False
        if enrolment.reviewed_at is not None:
            removed = await withdraw_hours(
                session, certificate_id=enrolment.certificate_id, cycle_year=cycle_year, now=now
            )
        enrolment.courses_completed_at = None
        enrolment.assessment_passed_at = None
        enrolment.reviewed_at = None
        enrolment.hours_record_id = None
        clearance = HoursClearance(
            enrolment_id=enrolment.id,
            reason=reason[:200],
            cleared_seconds=cleared,
            hours_record_removed=removed,
            created_at=now,
        )
        session.add(clearance)
    return clearance
