"""Enrolment (报名): per certificate and cycle, from a recommended package, creating the course order.

Rules: only this year and last year; one enrolment per certificate and cycle; in one year, from the
second certificate on, the general (通用) courses are exempt; the first-enrolled certificate of a
year is studied first. Enrolments of one person are serialised on their account row, so two
requests at once cannot both be "the first" of a year.
"""

from __future__ import annotations

import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.context import Backend
from services.errors import AppError
from services.learning.rules import offered_cycles
from storage.models import (
    Certificate,
    CoursePackage,
    Enrolment,
    EnrolmentCourse,
    LearningAccount,
    LearningCertificate,
    PackageCourse,
)
from storage.models.learning import CourseKind


async def account_of(session: AsyncSession, person_id: int, *, lock: bool = False) -> LearningAccount:
    query = select(LearningAccount).where(LearningAccount.person_id == person_id)
    if lock:
        query = query.with_for_update()
    account = await session.scalar(query)
    if account is None:
        raise AppError(404, "no_account", "还没有注册继续教育平台账号")
    return account


async def my_certificate(session: AsyncSession, account: LearningAccount, number: str) -> Certificate:
    """A certificate pulled into this account; anyone else's is answered like an unknown one."""
    certificate = await session.scalar(
        select(Certificate)
        .join(LearningCertificate, LearningCertificate.certificate_id == Certificate.id)
        .where(LearningCertificate.account_id == account.id, Certificate.certificate_number == number.strip())
    )
    if certificate is None:
        raise AppError(404, "certificate_not_found", f"您的账号下没有编号为 {number.strip()} 的证书")
    return certificate


async def my_certificates(session: AsyncSession, account: LearningAccount) -> list[Certificate]:
    return list(
        await session.scalars(
            select(Certificate)
            .join(LearningCertificate, LearningCertificate.certificate_id == Certificate.id)
            .where(LearningCertificate.account_id == account.id)
            .order_by(Certificate.id)
        )
    )


async def packages_for(session: AsyncSession, position: str) -> list[CoursePackage]:
    """The active recommended packages for a position, with their courses."""
    packages = await session.scalars(
        select(CoursePackage)
        .where(CoursePackage.active.is_(True))
        .options(selectinload(CoursePackage.items).selectinload(PackageCourse.course))
        .order_by(CoursePackage.code)
    )
    return [package for package in packages if position in package.positions]


def check_cycle(cycle_year: int, backend: Backend) -> None:
    current, previous = offered_cycles(backend.now().date())
    if cycle_year > current:
        raise AppError(
            422, "future_cycle", f"不能提前学习{cycle_year}年度的课程，现在只能报{current}年或{previous}年"
        )
    if cycle_year < previous:
        raise AppError(
            422, "cycle_closed", f"{cycle_year}年度已不能报名，现在只能报{current}年或{previous}年"
        )


async def enrol(
    backend: Backend, *, person_id: int, certificate_number: str, cycle_year: int, package_code: str
) -> Enrolment:
    """Submit the enrolment: the order copies the package's courses as they are today."""
    check_cycle(cycle_year, backend)
    now = backend.now()
    try:
        async with backend.transaction() as session:
            account = await account_of(session, person_id, lock=True)
            certificate = await my_certificate(session, account, certificate_number)
            if await session.scalar(
                select(Enrolment.id).where(
                    Enrolment.certificate_id == certificate.id, Enrolment.cycle_year == cycle_year
                )
            ):
                raise _already(certificate, cycle_year)
            package = next(
                (p for p in await packages_for(session, certificate.position) if p.code == package_code), None
            )
            if package is None:
                raise AppError(
                    422, "package_not_offered", f"没有适用于{certificate.position}的课程包 {package_code}"
                )
            earlier = await session.scalar(
                select(func.count(Enrolment.id)).where(
                    Enrolment.person_id == person_id, Enrolment.cycle_year == cycle_year
                )
            )
            exempt = bool(earlier)
            enrolment = Enrolment(
                order_number=f"KC{now:%Y%m%d}{secrets.token_hex(4).upper()}",
                person_id=person_id,
                certificate_id=certificate.id,
                cycle_year=cycle_year,
                package_id=package.id,
                package_title=package.title,
                general_exempt=exempt,
                created_at=now,
            )
            items = [
                item for item in package.items if not (exempt and item.course.kind == CourseKind.GENERAL)
            ]
            enrolment.courses = [
                EnrolmentCourse(
                    course_id=item.course_id,
                    seq=seq,
                    kind=item.course.kind,
                    title=item.course.title,
                    hours=item.course.hours,
                    duration_seconds=item.course.duration_seconds,
                    credited_seconds=0.0,
                )
                for seq, item in enumerate(items, start=1)
            ]
            session.add(enrolment)
    except IntegrityError:
        # A second request for the same certificate and cycle lost the race on the unique constraint.
        raise AppError(409, "already_enrolled", f"这本证书已经报名了{cycle_year}年度，不能重复报名") from None
    return enrolment


def _already(certificate: Certificate, cycle_year: int) -> AppError:
    return AppError(
        409,
        "already_enrolled",
        f"证书 {certificate.certificate_number} 已经报名了{cycle_year}年度，不能重复报名，请直接去学习",
    )


async def load_enrolment(session: AsyncSession, person_id: int, enrolment_id: int) -> Enrolment:
    """One of the person's enrolments with its courses and certificate; anyone else's is not found."""
    enrolment = await session.scalar(
        select(Enrolment)
        .where(Enrolment.id == enrolment_id, Enrolment.person_id == person_id)
        .options(selectinload(Enrolment.courses), selectinload(Enrolment.certificate))
    )
    if enrolment is None:
        raise AppError(404, "enrolment_not_found", "没有找到这个课程订单")
    return enrolment


async def blocking_enrolment(session: AsyncSession, enrolment: Enrolment) -> Enrolment | None:
    """An earlier enrolment of the same person and year whose courses are not finished yet."""
    return await session.scalar(
        select(Enrolment)
        .where(
            Enrolment.person_id == enrolment.person_id,
            Enrolment.cycle_year == enrolment.cycle_year,
            Enrolment.id < enrolment.id,
            Enrolment.courses_completed_at.is_(None),
        )
        .options(selectinload(Enrolment.certificate))
        .order_by(Enrolment.id)
        .limit(1)
    )
