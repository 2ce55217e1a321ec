"""Enrolment rules: this year and last year only, once per certificate and cycle, only one's own
certificates, general courses exempt from the second certificate of a year, first enrolled first."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Enrolment
from tests.conftest import FakeClock
from tests.learning.conftest import enrol, make_trainee

pytestmark = pytest.mark.usefixtures("catalog")


async def enrolments(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count(Enrolment.id))) or 0)


async def test_cycles_and_packages_offered(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    cycles = (await client.get("/api/learning/cycles")).json()
    assert cycles["cycles"] == [2026, 2025]
    assert (cycles["required_hours"], cycles["professional_hours"], cycles["general_hours"]) == (32, 22, 10)
    offered = await client.get(
        "/api/learning/packages",
        params={"certificate_number": trainee.certificates[0]},
        headers=trainee.headers,
    )
    assert [p["code"] for p in offered.json()] == ["PKG-JX"]
    package = offered.json()[0]
    assert (package["professional_hours"], package["general_hours"]) == (22, 10)


async def test_enrolment_creates_the_course_order(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    assert order["order_number"].startswith("KC20260302")
    assert order["general_exempt"] is False and order["total_hours"] == 32
    assert [c["title"] for c in order["courses"]] == [
        "施工机械设备管理",
        "施工现场安全管理实务",
        "工程质量通病防治",
        "建设工程法律法规与职业道德",
        "建筑施工安全生产常识",
    ]
    assert order["status"] == "学习中" and order["progress_percent"] == 0
    listed = (await client.get("/api/learning/me/certificates", headers=trainee.headers)).json()
    assert listed[0]["enrolments"] == [{"cycle_year": 2026, "enrolment_id": order["id"]}]


async def test_refused_enrolments_store_nothing(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    other = await make_trainee(client, backend)
    number = trainee.certificates[0]

    async def attempt(who: object, body: dict[str, object]) -> httpx.Response:
        payload = {"certificate_number": number, "cycle_year": 2026, "package_code": "PKG-JX", **body}
        return await client.post("/api/learning/enrolments", json=payload, headers=who.headers)  # type: ignore[attr-defined]

    future = await attempt(trainee, {"cycle_year": 2027})
    assert future.status_code == 422 and future.json()["error"]["code"] == "future_cycle"
    assert "2027" in future.json()["error"]["message"]
    old = await attempt(trainee, {"cycle_year": 2024})
    assert old.status_code == 422 and old.json()["error"]["code"] == "cycle_closed"
    foreign = await attempt(other, {})
    assert foreign.status_code == 404 and foreign.json()["error"]["code"] == "certificate_not_found"
    wrong_package = await attempt(trainee, {"package_code": "PKG-AQ"})
    assert wrong_package.status_code == 422 and wrong_package.json()["error"]["code"] == "package_not_offered"
    assert await enrolments(backend) == 0

    assert (await attempt(trainee, {})).status_code == 201
    twice = await attempt(trainee, {})
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "already_enrolled"
    assert (await attempt(trainee, {"cycle_year": 2025})).status_code == 201
    assert await enrolments(backend) == 2


async def test_second_certificate_of_a_year_skips_general_courses_and_waits(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await make_trainee(client, backend, ("机械员", "安全员"))
    first = await enrol(client, trainee, trainee.certificates[0])
    second = await enrol(client, trainee, trainee.certificates[1], package="PKG-AQ")
    assert second["general_exempt"] is True
    assert {c["kind"] for c in second["courses"]} == {"专业"} and second["total_hours"] == 22
    assert second["blocked_by"] is not None and trainee.certificates[0] in second["blocked_by"]

    waits = await client.post(
        f"/api/learning/enrolments/{second['id']}/courses/1/watch", headers=trainee.headers
    )
    assert waits.status_code == 409 and waits.json()["error"]["code"] == "study_order"
    assert "机械员" in waits.json()["error"]["message"]
    assert first["blocked_by"] is None

    # Another year is its own first enrolment: general courses included.
    other_year = await enrol(client, trainee, trainee.certificates[1], year=2025, package="PKG-AQ")
    assert other_year["general_exempt"] is False and other_year["total_hours"] == 32
