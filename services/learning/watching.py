"""Watching a course with no skipping: sessions and the player's heartbeats.

A trainee has at most one active session; starting one ends the others, and their later
heartbeats are refused as a concurrent session. A heartbeat is judged by `rules.judge`; accepted
ones move the credited position with conditional updates (the session's last sequence number and
the course's credited seconds must still be what was read), so two copies of one report sent at once
credit once. Every refused report is stored with its reason, in its own transaction, before the
refusal is answered.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.auth import person_for_token
from services.context import Backend
from services.errors import AppError
from services.learning import completion, fastpath
from services.learning.accounts import SYSTEM
from services.learning.enrolment import account_of, blocking_enrolment, load_enrolment
from services.learning.rules import HeartbeatPolicy, Refusal, Report, SessionState, judge
from storage.models import AuthToken, Course, Enrolment, EnrolmentCourse, RejectedReport, WatchSession

CONFLICT = Refusal(reason="replayed", status=409, message="这条学习进度已经上报过了")
NOT_YOURS = Refusal(reason="not_your_session", status=403, message="这不是您的学习记录，不能上报进度")


@dataclass(frozen=True)
class Started:
    session: WatchSession
    course: EnrolmentCourse
    media: str
    resume_at: float


@dataclass(frozen=True)
class Beat:
    credited_seconds: float
    duration_seconds: int
    course_completed: bool
    all_courses_completed: bool
    free_replay: bool


async def start_session(backend: Backend, *, person_id: int, enrolment_id: int, seq: int) -> Started:
    """Begin (or resume) watching course `seq` of an enrolment; ends the trainee's other sessions."""
    now = backend.now()
    async with backend.transaction() as session:
        await account_of(session, person_id, lock=True)
        enrolment = await load_enrolment(session, person_id, enrolment_id)
        course = next((item for item in enrolment.courses if item.seq == seq), None)
        if course is None:
            raise AppError(404, "course_not_found", "这个课程订单里没有这门课")
        free_replay = enrolment.courses_completed_at is not None
        if not free_replay:
            if course.completed_at is not None:
                raise AppError(
                    409, "course_finished", "这门课已经学完了，请学下一门；全部课程学完后可以随意回看"
                )
            blocker = await blocking_enrolment(session, enrolment)
            if blocker is not None:
                raise AppError(
                    409,
                    "study_order",
                    f"请先学完先报名的{blocker.certificate.position}证书（{blocker.cycle_year}年度）的课程",
                )
        await session.execute(
            update(WatchSession)
            .where(WatchSession.person_id == person_id, WatchSession.ended_at.is_(None))
            .values(ended_at=now, end_reason="replaced")
        )
        resume_at = 0.0 if free_replay else course.credited_seconds
        watch = WatchSession(
            public_id=secrets.token_hex(16),
            person_id=person_id,
            enrolment_course_id=course.id,
            free_replay=free_replay,
            started_at=now,
            start_position=resume_at,
            credited_in_session=0.0,
            last_seq=0,
            last_position=resume_at,
            last_report_at=now,
            previous_report_at=now,
        )
        session.add(watch)
        media = await session.scalar(select(Course.media).where(Course.id == course.course_id))
    assert media is not None
    return Started(session=watch, course=course, media=media, resume_at=resume_at)


async def _record_refusal(
    backend: Backend,
    refusal: Refusal,
    *,
    person_id: int,
    session_id: int | None,
    report: Report,
    credited: float | None,
    now: datetime,
) -> AppError:
    async with backend.transaction() as session:
        session.add(
            RejectedReport(
                person_id=person_id,
                session_id=session_id,
                reason=refusal.reason,
                seq=report.seq,
                reported_position=report.position if abs(report.position) < 1e12 else None,
                credited_position=credited,
                detail=refusal.message[:200],
                created_at=now,
            )
        )
    return AppError(refusal.status, refusal.reason, refusal.message)


class _Conflict(Exception):
    """A concurrent copy of the report was credited first; the transaction is rolled back."""


def token_digest(token: str) -> str:
    """The stored form of a bearer token (as services.auth keeps it)."""
    return hashlib.sha256(token.encode()).hexdigest()


async def heartbeat(backend: Backend, *, token: str, public_id: str, report: Report) -> Beat:
    """Judge one report of the player; credit it, or store and answer the refusal.

    The busiest path of the platform: plain progress is credited by `fastpath`; here
    the caller's token, the session and the course are read in one query on one connection, and an
    accepted report costs two conditional updates.
    """
    now = backend.now()
    digest = token_digest(token)
    fast = await fastpath.accept(
        backend, token_hash=digest, system=SYSTEM, public_id=public_id, report=report, now=now
    )
    if fast is not None:
        credit, fast_row = fast
        return Beat(
            credited_seconds=credit.position,
            duration_seconds=int(fast_row["duration_seconds"]),
            course_completed=False,
            all_courses_completed=bool(fast_row["free_replay"]),
            free_replay=bool(fast_row["free_replay"]),
        )
    policy = HeartbeatPolicy.from_settings(backend.settings)
    caller = (
        select(AuthToken.person_id)
        .where(
            AuthToken.token_hash == digest,
            AuthToken.system == SYSTEM,
            AuthToken.expires_at > now,
        )
        .scalar_subquery()
    )
    query = (
        select(
            caller.label("caller"),
            WatchSession.id,
            WatchSession.person_id,
            WatchSession.enrolment_course_id,
            WatchSession.free_replay,
            WatchSession.started_at,
            WatchSession.credited_in_session,
            WatchSession.last_seq,
            WatchSession.last_report_at,
            WatchSession.previous_report_at,
            WatchSession.ended_at,
            EnrolmentCourse.enrolment_id,
            EnrolmentCourse.duration_seconds,
            EnrolmentCourse.credited_seconds,
            EnrolmentCourse.completed_at,
        )
        .join(EnrolmentCourse, EnrolmentCourse.id == WatchSession.enrolment_course_id)
        .where(WatchSession.public_id == public_id)
    )
    refusal: Refusal | None = None
    try:
        async with backend.engine.begin() as conn:
            row = (await conn.execute(query)).one_or_none()
            if row is None or row.caller is None:
                await _raise_unknown(backend, token, now)
                raise AppError(404, "session_not_found", "没有找到这次学习，请重新打开课程")
            if row.caller != row.person_id:
                refusal = NOT_YOURS
            else:
                verdict = judge(_state(row), report, now=now, policy=policy)
                if isinstance(verdict, Refusal):
                    refusal = verdict
                else:
                    return await _credit(conn, backend, row, report, verdict.position, verdict.gained, now)
    except _Conflict:
        refusal = CONFLICT
    assert refusal is not None and row is not None
    raise await _record_refusal(
        backend,
        refusal,
        person_id=row.caller,
        session_id=row.id,
        report=report,
        credited=row.credited_seconds if row.caller == row.person_id else None,
        now=now,
    )


async def _raise_unknown(backend: Backend, token: str, now: datetime) -> None:
    """A report that matched nothing: an expired login says so; otherwise the session is unknown."""
    async with backend.sessions() as session:
        if await person_for_token(session, system=SYSTEM, token=token, now=now) is None:
            raise AppError(401, "unauthorized", "登录已过期，请重新登录")


def _state(row: Any) -> SessionState:
    return SessionState(
        ended=row.ended_at is not None,
        free_replay=row.free_replay,
        course_complete=row.completed_at is not None,
        duration=float(row.duration_seconds),
        credited=row.credited_seconds,
        last_seq=row.last_seq,
        last_report_at=row.last_report_at,
        previous_report_at=row.previous_report_at,
        started_at=row.started_at,
        credited_in_session=row.credited_in_session,
    )


async def _credit(
    conn: AsyncConnection,
    backend: Backend,
    row: Any,  # the row of columns selected in `heartbeat`
    report: Report,
    position: float,
    gained: float,
    now: datetime,
) -> Beat:
    """Apply an accepted report; _Conflict when a concurrent copy of it got there first."""
    duration = int(row.duration_seconds)
    completes = not row.free_replay and position >= duration
    session_values: dict[str, object] = {
        "last_seq": report.seq,
        "last_position": report.position if row.free_replay else position,
        "last_report_at": now,
        "previous_report_at": WatchSession.last_report_at,
        "credited_in_session": WatchSession.credited_in_session + gained,
    }
    if completes:
        session_values.update(ended_at=now, end_reason="completed")
    moved = await conn.execute(
        update(WatchSession)
        .where(
            WatchSession.id == row.id,
            WatchSession.last_seq == row.last_seq,
            WatchSession.ended_at.is_(None),
        )
        .values(**session_values)
    )
    if _rowcount(moved) != 1:
        raise _Conflict
    all_done = False
    if not row.free_replay:
        course_values: dict[str, object] = {"credited_seconds": position}
        if completes:
            course_values["completed_at"] = now
        moved = await conn.execute(
            update(EnrolmentCourse)
            .where(
                EnrolmentCourse.id == row.enrolment_course_id,
                EnrolmentCourse.credited_seconds == row.credited_seconds,
                EnrolmentCourse.completed_at.is_(None),
            )
            .values(**course_values)
        )
        if _rowcount(moved) != 1:
            raise _Conflict
        if completes:
            async with AsyncSession(bind=conn, expire_on_commit=False) as session:
                all_done = await _finish_course(session, backend, row.enrolment_id, now)
    return Beat(
        credited_seconds=position,
        duration_seconds=duration,
        course_completed=completes or row.completed_at is not None,
        all_courses_completed=all_done or bool(row.free_replay),
        free_replay=bool(row.free_replay),
    )


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


async def _finish_course(session: AsyncSession, backend: Backend, enrolment_id: int, now: datetime) -> bool:
    """After a course completes: when it was the last one, mark the order's courses complete."""
    enrolment = await session.get(Enrolment, enrolment_id, with_for_update=True, populate_existing=True)
    assert enrolment is not None
    open_courses = await session.scalar(
        select(EnrolmentCourse.id)
        .where(EnrolmentCourse.enrolment_id == enrolment_id, EnrolmentCourse.completed_at.is_(None))
        .limit(1)
    )
    if open_courses is not None:
        return False
    if enrolment.courses_completed_at is None:
        enrolment.courses_completed_at = now
        await session.flush()
        await completion.review_if_ready(session, backend, enrolment_id)
    return True
