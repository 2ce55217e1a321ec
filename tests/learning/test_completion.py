"""Completion end to end over HTTP: a demo trainee goes from registration on the platform to a
certificate back at 正常, with the hours in the management system, the guide's SMS and an event;
then 学时清零, and free replay once everything is done."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from services.context import Backend
from services.learning.catalog import DEMO_CATALOG
from services.learning.completion import COMPLETION_SMS
from services.learning.records import training_record
from services.registry.demo import load_demo_data
from storage.models import HoursClearance, LearningEvent, SmsMessage
from tests.conftest import FakeClock
from tests.learning.conftest import enrol, load_catalog, register_and_login, run_cli, sit_paper, watch_all

GULINQIAN = "220102197805120319"
GUIDE_SMS = "【温馨提示】尊敬的学员，恭喜您的继续教育已完成，可登录管理系统查看学时记录，获取最新的电子证书。"


async def demo_trainee_completes(client: httpx.AsyncClient, backend: Backend, clock: FakeClock) -> tuple:
    await load_demo_data(backend)
    await load_catalog(backend, DEMO_CATALOG)
    trainee = await register_and_login(client, backend, "古林前", GULINQIAN)
    certificates = (await client.get("/api/learning/me/certificates", headers=trainee.headers)).json()
    assert [c["certificate_number"] for c in certificates] == ["221175", "吉建培2021000458"]
    assert certificates[0]["status"] == "非正常"

    order = await enrol(client, trainee, "221175", year=2026, package="PKG-JX")
    await watch_all(client, trainee, order, clock)
    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["courses_completed"] is True and detail["progress_percent"] == 100
    assert detail["reviewed"] is False, "no hours before the assessment is passed"
    passed = await sit_paper(client, backend, trainee, order["id"], right=10)
    assert passed.json()["passed"] is True and passed.json()["score"] == 100
    return trainee, order


async def test_demo_trainee_from_enrolment_to_normal(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order = await demo_trainee_completes(client, backend, clock)
    assert COMPLETION_SMS == GUIDE_SMS

    # The management system (its own login) shows the certificate 正常 with the year's hours.
    registry = await client.post(
        "/api/registry/sessions", json={"login": GULINQIAN, "password": "13900000001"}
    )
    headers = {"Authorization": f"Bearer {registry.json()['token']}"}
    certificate = (await client.get("/api/registry/me/certificates", headers=headers)).json()[0]
    assert (certificate["certificate_number"], certificate["status"], certificate["remark"]) == (
        "221175",
        "正常",
        "",
    )
    assert certificate["hours"][0]["cycle_year"] == 2026
    assert (certificate["hours"][0]["professional_hours"], certificate["hours"][0]["general_hours"]) == (
        22,
        10,
    )

    async with backend.sessions() as session:
        texts = list(await session.scalars(select(SmsMessage.text).where(SmsMessage.phone == trainee.phone)))
        events = list(await session.scalars(select(LearningEvent)))
        record = await training_record(session, order["id"], backend.settings)
    assert texts.count(GUIDE_SMS) == 1
    assert [(e.kind, e.person_id, e.payload["certificate_number"]) for e in events] == [
        ("learning_completed", trainee.person_id, "221175")
    ]
    assert events[0].delivered_at is None
    assert record is not None
    assert (record.name, record.certificate_number, record.cycle_year, record.total_hours) == (
        "古林前",
        "221175",
        2026,
        32,
    )
    assert record.assessment_score == 100 and len(record.courses) == 5 and record.institution

    # Once everything is done, replay is free: start anywhere, no seeking limits, nothing more credited.
    replay = await client.post(
        f"/api/learning/enrolments/{order['id']}/courses/1/watch", headers=trainee.headers
    )
    assert (
        replay.status_code == 201 and replay.json()["free_replay"] is True and replay.json()["resume_at"] == 0
    )
    clock.advance(seconds=1)
    jump = await client.post(
        f"/api/learning/watch/{replay.json()['session_id']}/heartbeats",
        json={"seq": 1, "position": 5.5, "rate": 2},
        headers=trainee.headers,
    )
    assert jump.status_code == 200 and jump.json()["free_replay"] is True


async def test_clear_hours_starts_the_enrolment_over(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order = await demo_trainee_completes(client, backend, clock)
    refused = await run_cli(
        backend, "admin", "clear-hours", "--certificate", "221175", "--year", "2026", "--reason", " "
    )
    assert refused.returncode == 1 and "原因" in refused.stderr
    done = await run_cli(
        backend,
        "admin",
        "clear-hours",
        "--certificate",
        "221175",
        "--year",
        "2026",
        "--reason",
        "使用挂机软件刷课",
    )
    assert done.returncode == 0, done.stderr
    assert "学时已清零" in done.stdout and "撤回" in done.stdout

    detail = (await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)).json()
    assert detail["progress_percent"] == 0 and not detail["courses_completed"] and not detail["reviewed"]
    certificates = (await client.get("/api/learning/me/certificates", headers=trainee.headers)).json()
    assert (certificates[0]["status"], certificates[0]["remark"]) == ("非正常", "未按要求完成继续教育")
    async with backend.sessions() as session:
        clearance = await session.scalar(select(HoursClearance))
        assert (
            clearance is not None
            and clearance.reason == "使用挂机软件刷课"
            and clearance.cleared_seconds == 30
        )
        assert await training_record(session, order["id"], backend.settings) is None
    unknown = await run_cli(
        backend, "admin", "clear-hours", "--certificate", "221175", "--year", "2025", "--reason", "核查"
    )
    assert unknown.returncode == 1 and "没有2025年度" in unknown.stderr
