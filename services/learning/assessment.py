"""The assessment (考核): a random paper from the position's question bank, answered one by one.

A paper can be started once every course of the order is watched. It is scored when handed in;
a failed paper may be retried after the cooldown; a passed one triggers the hours review. Answers
are option letters, so the assistant can drive a paper question by question through the API.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.context import Backend
from services.errors import AppError
from services.learning import completion
from services.learning.enrolment import load_enrolment
from storage.models import AssessmentAttempt, Enrolment, Question

_LETTERS = "ABCDEF"
_random = random.SystemRandom()


@dataclass(frozen=True)
class PaperQuestion:
    index: int
    stem: str
    options: list[str]
    multiple: bool
    answer: str | None


@dataclass(frozen=True)
class Paper:
    attempt: AssessmentAttempt
    questions: list[PaperQuestion]
    pass_mark: int
    retry_minutes: int  # after a fail, the wait before the next paper


async def _questions(session: AsyncSession, attempt: AssessmentAttempt) -> list[PaperQuestion]:
    rows = {
        q.id: q for q in await session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
    }
    return [
        PaperQuestion(
            index=index,
            stem=rows[qid].stem,
            options=list(rows[qid].options),
            multiple=len(rows[qid].answer) > 1,
            answer=attempt.answers.get(str(index)),
        )
        for index, qid in enumerate(attempt.question_ids, start=1)
    ]


async def _latest(session: AsyncSession, enrolment_id: int) -> AssessmentAttempt | None:
    return await session.scalar(
        select(AssessmentAttempt)
        .where(AssessmentAttempt.enrolment_id == enrolment_id)
        .order_by(AssessmentAttempt.id.desc())
        .limit(1)
    )


async def _paper(session: AsyncSession, backend: Backend, attempt: AssessmentAttempt) -> Paper:
    return Paper(
        attempt=attempt,
        questions=await _questions(session, attempt),
        pass_mark=backend.settings.learning_pass_mark,
        retry_minutes=backend.settings.learning_retry_cooldown_minutes,
    )


async def current_paper(backend: Backend, *, person_id: int, enrolment_id: int) -> Paper:
    async with backend.sessions() as session:
        await load_enrolment(session, person_id, enrolment_id)
        attempt = await _latest(session, enrolment_id)
        if attempt is None:
            raise AppError(404, "no_paper", "还没有开始考核")
        return await _paper(session, backend, attempt)


async def start_paper(backend: Backend, *, person_id: int, enrolment_id: int) -> Paper:
    """Draw a paper; an unfinished one is handed back instead of a new one.

    Two draws at once (SQLite takes no row lock) both find no open paper; the database keeps one
    open paper per order, so the later one fails to store its own and hands back the first one's.
    """
    try:
        return await _draw(backend, person_id=person_id, enrolment_id=enrolment_id)
    except IntegrityError:
        return await _draw(backend, person_id=person_id, enrolment_id=enrolment_id)


async def _draw(backend: Backend, *, person_id: int, enrolment_id: int) -> Paper:
    settings = backend.settings
    now = backend.now()
    async with backend.transaction() as session:
        enrolment = await load_enrolment(session, person_id, enrolment_id)
        await session.get(Enrolment, enrolment.id, with_for_update=True)
        if enrolment.courses_completed_at is None:
            raise AppError(409, "courses_unfinished", "请先学完全部课程，再参加考核")
        if enrolment.assessment_passed_at is not None:
            raise AppError(409, "already_passed", "考核已经通过了，不用再考")
        latest = await _latest(session, enrolment_id)
        if latest is not None and latest.submitted_at is None:
            return await _paper(session, backend, latest)
        if latest is not None and latest.submitted_at is not None:
            ready_at = latest.submitted_at + timedelta(minutes=settings.learning_retry_cooldown_minutes)
            if now < ready_at:
                minutes = max(1, math.ceil((ready_at - now).total_seconds() / 60))
                raise AppError(429, "retry_too_soon", f"上次考核没有通过，请{minutes}分钟后再考")
        position = enrolment.certificate.position
        pool = [
            q.id
            for q in await session.scalars(
                select(Question).where(Question.active.is_(True)).order_by(Question.id)
            )
            if not q.positions or position in q.positions
        ]
        if not pool:
            raise AppError(503, "no_questions", "题库暂时没有题目，请稍后再试")
        chosen = _random.sample(pool, min(settings.learning_paper_size, len(pool)))
        attempt = AssessmentAttempt(
            enrolment_id=enrolment_id, question_ids=chosen, answers={}, started_at=now
        )
        session.add(attempt)
        await session.flush()
        return await _paper(session, backend, attempt)


def normalize_answer(raw: str, option_count: int) -> str:
    """'a c' / 'CA' / 'A,C' -> 'AC'; letters must name existing options."""
    letters = "".join(ch for ch in raw.upper() if not ch.isspace() and ch not in ",，、")
    valid = _LETTERS[:option_count]
    if not letters or any(ch not in valid for ch in letters):
        raise AppError(422, "invalid_answer", f"请用选项字母作答（{'、'.join(valid)}）")
    return "".join(sorted(set(letters)))


async def _open_attempt(session: AsyncSession, person_id: int, enrolment_id: int) -> AssessmentAttempt:
    await load_enrolment(session, person_id, enrolment_id)
    attempt = await session.scalar(
        select(AssessmentAttempt)
        .where(AssessmentAttempt.enrolment_id == enrolment_id, AssessmentAttempt.submitted_at.is_(None))
        .with_for_update()
    )
    if attempt is None:
        raise AppError(409, "no_open_paper", "没有正在进行的考核，请先开始考核")
    return attempt


async def answer(
    backend: Backend, *, person_id: int, enrolment_id: int, index: int, raw_answer: str
) -> Paper:
    async with backend.transaction() as session:
        attempt = await _open_attempt(session, person_id, enrolment_id)
        if not 1 <= index <= len(attempt.question_ids):
            raise AppError(404, "question_not_found", f"这张试卷只有{len(attempt.question_ids)}道题")
        question = await session.get(Question, attempt.question_ids[index - 1])
        assert question is not None
        attempt.answers = {**attempt.answers, str(index): normalize_answer(raw_answer, len(question.options))}
        await session.flush()
        return await _paper(session, backend, attempt)


async def submit(backend: Backend, *, person_id: int, enrolment_id: int) -> Paper:
    """Hand the paper in; a pass runs the hours review in the same transaction."""
    now = backend.now()
    async with backend.transaction() as session:
        attempt = await _open_attempt(session, person_id, enrolment_id)
        missing = [i for i in range(1, len(attempt.question_ids) + 1) if str(i) not in attempt.answers]
        if missing:
            listed = "、".join(str(i) for i in missing[:10])
            raise AppError(422, "unanswered", f"还有{len(missing)}道题没有作答（第{listed}题）")
        rows = {
            q.id: q
            for q in await session.scalars(select(Question).where(Question.id.in_(attempt.question_ids)))
        }
        correct = sum(
            1
            for index, qid in enumerate(attempt.question_ids, start=1)
            if attempt.answers[str(index)] == rows[qid].answer
        )
        attempt.score = round(100 * correct / len(attempt.question_ids))
        attempt.passed = attempt.score >= backend.settings.learning_pass_mark
        attempt.submitted_at = now
        if attempt.passed:
            enrolment = await session.get(Enrolment, enrolment_id)
            assert enrolment is not None
            enrolment.assessment_passed_at = now
            await session.flush()
            await completion.review_if_ready(session, backend, enrolment_id)
        return await _paper(session, backend, attempt)
