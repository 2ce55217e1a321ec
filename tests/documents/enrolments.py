"""Continuing-education records as the learning platform leaves them after an hours review.

Written straight into the platform's tables, so the proof is tested on exactly the states the
platform can be in (finished, assessment not yet passed, review withdrawn by 学时清零).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.auth import open_session
from services.context import Backend
from storage.models import (
    AssessmentAttempt,
    Certificate,
    Course,
    CoursePackage,
    Enrolment,
    EnrolmentCourse,
    HoursClearance,
    HoursRecord,
)

_serial = itertools.count(1)

COURSES = (
    ("建筑施工安全生产法律法规", "专业", 6.0),
    ("危险性较大的分部分项工程安全管理", "专业", 8.0),
    ("施工现场临时用电与消防安全", "专业", 8.0),
    ("职业道德与从业规范", "通用", 4.0),
    ("建设行业新技术新工艺概述", "通用", 6.0),
)


@dataclass(frozen=True)
class Finished:
    enrolment_id: int
    titles: list[str]


async def learning_token(backend: Backend, person_id: int) -> dict[str, str]:
    """A 继续教育平台 login of the person, as the platform's own login would open it."""
    async with backend.transaction() as session:
        token, _ = await open_session(
            session, system="learning", person_id=person_id, now=backend.now(), lifetime=timedelta(hours=12)
        )
    return {"Authorization": f"Bearer {token}"}


async def enrolment(
    backend: Backend,
    person_id: int,
    number: str,
    *,
    cycle_year: int = 2026,
    completed: bool = True,
    passed: bool = True,
    reviewed: bool = True,
    score: int = 85,
    courses: tuple[tuple[str, str, float], ...] = COURSES,
) -> Finished:
    serial = next(_serial)
    now = backend.now()
    async with backend.transaction() as session:
        certificate = await session.scalar(
            select(Certificate).where(Certificate.certificate_number == number)
        )
        assert certificate is not None
        package = CoursePackage(code=f"P{serial}", title="安全员推荐课程包", positions=[certificate.position])
        session.add(package)
        await session.flush()
        row = Enrolment(
            order_number=f"KC{cycle_year}{serial:08d}",
            person_id=person_id,
            certificate_id=certificate.id,
            cycle_year=cycle_year,
            package_id=package.id,
            package_title=package.title,
            created_at=now,
            courses_completed_at=now if completed else None,
            assessment_passed_at=now if passed else None,
        )
        session.add(row)
        await session.flush()
        titles = []
        for seq, (title, kind, hours) in enumerate(courses, start=1):
            course = Course(
                code=f"C{serial}-{seq}",
                title=title,
                kind=kind,
                positions=[certificate.position],
                hours=hours,
                duration_seconds=60,
                media="demo.webm",
            )
            session.add(course)
            await session.flush()
            session.add(
                EnrolmentCourse(
                    enrolment_id=row.id,
                    course_id=course.id,
                    seq=seq,
                    kind=kind,
                    title=title,
                    hours=hours,
                    duration_seconds=60,
                    credited_seconds=60.0 if completed else 0.0,
                    completed_at=now if completed else None,
                )
            )
            titles.append(title)
        session.add(
            AssessmentAttempt(
                enrolment_id=row.id,
                question_ids=[1, 2, 3],
                started_at=now,
                submitted_at=now,
                score=score if passed else 40,
                passed=passed,
            )
        )
        if reviewed:
            await review(session, row, now)
    return Finished(enrolment_id=row.id, titles=titles)


async def review(session: AsyncSession, row: Enrolment, now: datetime) -> None:
    """The platform's hours review: the hours go to the registry and the enrolment is marked reviewed."""
    professional = sum(c[2] for c in COURSES if c[1] == "专业")
    general = sum(c[2] for c in COURSES if c[1] == "通用")
    record = HoursRecord(
        certificate_id=row.certificate_id,
        cycle_year=row.cycle_year,
        professional_hours=professional,
        general_hours=general,
    )
    session.add(record)
    await session.flush()
    row.hours_record_id = record.id
    row.reviewed_at = now


async def clear_hours(backend: Backend, enrolment_id: int, reason: str) -> None:
    """学时清零 as the platform records it: the review is withdrawn and the clearance is kept."""
    async with backend.transaction() as session:
        row = await session.get(Enrolment, enrolment_id)
        assert row is not None
        row.reviewed_at = None
        row.assessment_passed_at = None
        row.courses_completed_at = None
        session.add(HoursClearance(enrolment_id=enrolment_id, reason=reason, cleared_seconds=300.0))


async def review_again(backend: Backend, enrolment_id: int) -> None:
    async with backend.transaction() as session:
        row = await session.get(Enrolment, enrolment_id)
        assert row is not None
        row.courses_completed_at = row.assessment_passed_at = row.reviewed_at = backend.now()
