"""A trainee cannot read or act on someone else's course order: it answers like an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.context import Backend
from storage.models.learning import (
    AssessmentAttempt,
    Enrolment,
    EnrolmentCourse,
    HoursClearance,
    LearningEvent,
    WatchSession,
)
from tests.conftest import FakeClock
from tests.learning.conftest import enrol, make_trainee, watch_all

pytestmark = pytest.mark.usefixtures("catalog")

WATCHED = (Enrolment, EnrolmentCourse, WatchSession, AssessmentAttempt, HoursClearance, LearningEvent)


async def snapshot(backend: Backend) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables an order's actions write to."""
    result = {}
    async with backend.sessions() as session:
        for model in WATCHED:
            rows = await session.scalars(select(model))
            columns = [c.key for c in model.__table__.columns]
            result[model.__tablename__] = sorted(
                ({c: getattr(row, c) for c in columns} for row in rows), key=repr
            )
    return result


def _link_body(order_id: int) -> dict[str, int]:
    return {"enrolment_id": order_id}


def _answer_body(_order_id: int) -> dict[str, str]:
    return {"answer": "A"}


@pytest.mark.parametrize(
    ("method", "path", "body_for"),
    [
        ("GET", "/api/learning/enrolments/{id}", None),
        ("POST", "/api/learning/enrolments/{id}/courses/1/watch", None),
        ("POST", "/api/learning/enrolments/{id}/assessment", None),
        ("GET", "/api/learning/enrolments/{id}/assessment", None),
        ("PUT", "/api/learning/enrolments/{id}/assessment/answers/1", _answer_body),
        ("POST", "/api/learning/enrolments/{id}/assessment/submit", None),
        ("POST", "/api/learning/player-links", _link_body),
    ],
)
async def test_someone_elses_order_is_not_found_and_left_alone(
    client: httpx.AsyncClient,
    backend: Backend,
    clock: FakeClock,
    method: str,
    path: str,
    body_for: Callable[[int], dict[str, Any]] | None,
) -> None:
    owner = await make_trainee(client, backend)
    intruder = await make_trainee(client, backend)
    await enrol(client, intruder, intruder.certificates[0])
    order = await enrol(client, owner, owner.certificates[0])
    await watch_all(client, owner, order, clock)
    paper = await client.post(f"/api/learning/enrolments/{order['id']}/assessment", headers=owner.headers)
    assert paper.status_code == 201
    before = await snapshot(backend)

    body = body_for(order["id"]) if body_for else None
    url = path.replace("{id}", str(order["id"]))
    answer = await client.request(method, url, json=body, headers=intruder.headers)

    assert answer.status_code == 404, answer.text
    assert answer.json()["error"]["code"] == "enrolment_not_found"
    assert owner.id_number not in answer.text and order["order_number"] not in answer.text
    assert await snapshot(backend) == before
    mine = await client.get(f"/api/learning/enrolments/{order['id']}/assessment", headers=owner.headers)
    assert mine.status_code == 200 and mine.json()["answered"] == 0
