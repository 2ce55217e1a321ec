"""The assessment: only after all courses, a random paper from the position's bank, answered one
question at a time, pass mark and retry cooldown from the configuration."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone

import httpx
import pytest
from sqlalchemy import select

from services.context import Backend
from storage.models import AssessmentAttempt, Question
from tests.conftest import FakeClock
from tests.learning.conftest import enrol, make_trainee, sit_paper, watch_all

pytestmark = pytest.mark.usefixtures("catalog")


async def test_paper_needs_finished_courses(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    early = await client.post(f"/api/learning/enrolments/{order['id']}/assessment", headers=trainee.headers)
    assert early.status_code == 409 and early.json()["error"]["code"] == "courses_unfinished"


async def test_paper_is_drawn_for_the_position_and_answered_one_by_one(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    await watch_all(client, trainee, order, clock)
    url = f"/api/learning/enrolments/{order['id']}/assessment"
    paper = await client.post(url, headers=trainee.headers)
    assert paper.status_code == 201
    body = paper.json()
    assert body["total"] == 10 and body["next_index"] == 1 and body["pass_mark"] == 60
    assert all("answer" not in q or q["answer"] is None for q in body["questions"])
    async with backend.sessions() as session:
        attempt = await session.scalar(select(AssessmentAttempt))
        assert attempt is not None
        drawn = list(await session.scalars(select(Question).where(Question.id.in_(attempt.question_ids))))
    assert all(not q.positions or "机械员" in q.positions for q in drawn)
    # Asking again hands back the same unfinished paper.
    assert (await client.post(url, headers=trainee.headers)).json()["questions"] == body["questions"]

    bad = await client.put(f"{url}/answers/1", json={"answer": "Z"}, headers=trainee.headers)
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_answer"
    beyond = await client.put(f"{url}/answers/11", json={"answer": "A"}, headers=trainee.headers)
    assert beyond.status_code == 404
    first = await client.put(f"{url}/answers/1", json={"answer": " b "}, headers=trainee.headers)
    assert first.json()["questions"][0]["answer"] == "B" and first.json()["next_index"] == 2
    early = await client.post(f"{url}/submit", headers=trainee.headers)
    assert early.status_code == 422 and "9道题" in early.json()["error"]["message"]


async def test_failing_waits_for_the_cooldown_then_passing_completes(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    await watch_all(client, trainee, order, clock)
    failed = await sit_paper(client, backend, trainee, order["id"], right=5)
    assert failed.status_code == 200
    assert failed.json()["score"] == 50 and failed.json()["passed"] is False
    ready_at = (clock() + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=8)))
    assert f"30分钟后可以再考（{ready_at:%H:%M}以后）" in failed.json()["message"], "when, in Beijing time"

    url = f"/api/learning/enrolments/{order['id']}/assessment"
    too_soon = await client.post(url, headers=trainee.headers)
    assert too_soon.status_code == 429 and "30分钟" in too_soon.json()["error"]["message"]
    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["status"] == "待考核" and detail["assessment"]["last_score"] == 50

    clock.advance(minutes=30)
    passed = await sit_paper(client, backend, trainee, order["id"], right=6)
    assert passed.json()["score"] == 60 and passed.json()["passed"] is True
    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["reviewed"] is True and detail["status"] == "已完成"
    again = await client.post(url, headers=trainee.headers)
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_passed"


async def test_draws_at_once_open_one_paper_and_the_answers_stay_on_it(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    await watch_all(client, trainee, order, clock)
    url = f"/api/learning/enrolments/{order['id']}/assessment"
    papers = await asyncio.gather(*(client.post(url, headers=trainee.headers) for _ in range(6)))
    assert [paper.status_code for paper in papers] == [201] * 6, [paper.text for paper in papers]
    assert len({tuple(q["stem"] for q in paper.json()["questions"]) for paper in papers}) == 1
    async with backend.sessions() as session:
        assert len(list(await session.scalars(select(AssessmentAttempt)))) == 1

    answered = await client.put(f"{url}/answers/1", json={"answer": "A"}, headers=trainee.headers)
    assert answered.status_code == 200, answered.text
    shown = await client.get(url, headers=trainee.headers)
    assert shown.json()["answered"] == 1 and shown.json()["questions"][0]["answer"] == "A"
