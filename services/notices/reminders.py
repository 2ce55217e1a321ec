"""The reminder rules: each finds the people a threshold was crossed for and records one notice per
crossing (the dedupe key names the crossing), so running them every minute, in any process, tells
each person once per threshold."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices.ledger import add_notice
from services.notices.manners import CHINA
from services.settings import Settings
from storage.models import (
    AssessmentAttempt,
    Certificate,
    ECertificate,
    Enrolment,
    EnrolmentCourse,
    HoursRecord,
    LearningAccount,
    Photo,
    RegistryAccount,
    WatchSession,
)

CYCLE_END_DAYS = ((11, 1), (12, 1), (12, 20))  # the cycle (a calendar year) ends on 31 Dec
IDLE_DAYS = 14
PHOTO_AFTER_DAYS = 1
ECERT_AFTER_DAYS = 3


def _with_account() -> ColumnElement[bool]:
    """People who can be reached: an account of either system (a phone, maybe chats)."""
    return Certificate.person_id.in_(select(RegistryAccount.person_id)) | Certificate.person_id.in_(
        select(LearningAccount.person_id)
    )


async def cycle_end(session: AsyncSession, now: datetime) -> int:
    today = now.astimezone(CHINA).date()
    passed = [date(today.year, m, d) for m, d in CYCLE_END_DAYS if today >= date(today.year, m, d)]
    if not passed:
        return 0
    threshold = passed[-1]
    recorded = select(HoursRecord.certificate_id).where(HoursRecord.cycle_year == today.year)
    rows = await session.execute(
        select(
            Certificate.id, Certificate.person_id, Certificate.certificate_number, Certificate.position
        ).where(Certificate.id.not_in(recorded), _with_account())
    )
    days_left = (date(today.year, 12, 31) - today).days
    made = 0
    for row in rows:
        made += await add_notice(
            session,
            person_id=row.person_id,
            kind="cycle_end",
            dedupe_key=f"cycle_end:{row.id}:{threshold.isoformat()}",
            now=now,
            params={
                "certificate_number": row.certificate_number,
                "position": row.position,
                "cycle_year": today.year,
                "days_left": days_left,
            },
        )
    return made


async def idle(session: AsyncSession, now: datetime) -> int:
    last_report = (
        select(func.max(WatchSession.last_report_at))
        .join(EnrolmentCourse, EnrolmentCourse.id == WatchSession.enrolment_course_id)
        .where(EnrolmentCourse.enrolment_id == Enrolment.id)
        .scalar_subquery()
    )
    rows = await session.execute(
        select(
            Enrolment.id, Enrolment.person_id, Enrolment.order_number, Enrolment.created_at, last_report
        ).where(Enrolment.courses_completed_at.is_(None), Enrolment.reviewed_at.is_(None))
    )
    made = 0
    for enrolment_id, person_id, order_number, created_at, reported in rows:
        last = max(created_at, reported) if reported is not None else created_at
        if now - last < timedelta(days=IDLE_DAYS):
            continue
        made += await add_notice(
            session,
            person_id=person_id,
            kind="idle",
            dedupe_key=f"idle:{enrolment_id}:{last.isoformat()}",
            now=now,
            params={"order_number": order_number, "days": (now - last).days},
        )
    return made


async def retry(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """The latest paper failed and its wait is over."""
    latest = (
        select(AssessmentAttempt.enrolment_id, func.max(AssessmentAttempt.id).label("attempt_id"))
        .group_by(AssessmentAttempt.enrolment_id)
        .subquery()
    )
    rows = await session.execute(
        select(
            AssessmentAttempt.id, AssessmentAttempt.submitted_at, Enrolment.person_id, Enrolment.order_number
        )
        .join(latest, latest.c.attempt_id == AssessmentAttempt.id)
        .join(Enrolment, Enrolment.id == AssessmentAttempt.enrolment_id)
        .where(
            AssessmentAttempt.passed.is_(False),
            AssessmentAttempt.submitted_at.is_not(None),
            Enrolment.assessment_passed_at.is_(None),
            Enrolment.courses_completed_at.is_not(None),
        )
    )
    wait = timedelta(minutes=settings.learning_retry_cooldown_minutes)
    made = 0
    for attempt_id, submitted_at, person_id, order_number in rows:
        if submitted_at is None or submitted_at + wait > now:
            continue
        made += await add_notice(
            session,
            person_id=person_id,
            kind="retry",
            dedupe_key=f"retry:{attempt_id}",
            now=now,
            params={"order_number": order_number},
        )
    return made


async def photo(session: AsyncSession, now: datetime) -> int:
    rows = await session.execute(
        select(RegistryAccount.person_id).where(
            RegistryAccount.person_id.not_in(select(Photo.person_id)),
            RegistryAccount.created_at <= now - timedelta(days=PHOTO_AFTER_DAYS),
        )
    )
    made = 0
    for (person_id,) in rows:
        made += await add_notice(
            session, person_id=person_id, kind="photo", dedupe_key=f"photo:{person_id}", now=now
        )
    return made


async def ecert(session: AsyncSession, now: datetime) -> int:
    """Hours recorded some days ago and no e-certificate issued since."""
    renewed = (
        select(ECertificate.id)
        .where(
            ECertificate.certificate_id == HoursRecord.certificate_id,
            ECertificate.issued_at >= HoursRecord.recorded_at,
        )
        .exists()
    )
    rows = await session.execute(
        select(
            HoursRecord.id,
            Certificate.id,
            Certificate.person_id,
            Certificate.certificate_number,
            Certificate.position,
        )
        .join(Certificate, and_(Certificate.id == HoursRecord.certificate_id))
        .where(HoursRecord.recorded_at <= now - timedelta(days=ECERT_AFTER_DAYS), ~renewed, _with_account())
    )
    made = 0
    for record_id, certificate_id, person_id, number, position in rows:
        made += await add_notice(
            session,
            person_id=person_id,
            kind="ecert",
            dedupe_key=f"ecert:{certificate_id}:{record_id}",
            now=now,
            params={"certificate_number": number, "position": position},
        )
    return made


async def run_rules(session: AsyncSession, now: datetime, settings: Settings) -> int:
    """Every rule once; the number of notices recorded now."""
    return (
        await cycle_end(session, now)
        + await idle(session, now)
        + await retry(session, now, settings)
        + await photo(session, now)
        + await ecert(session, now)
    )
