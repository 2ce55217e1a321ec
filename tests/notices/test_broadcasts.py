"""Operator broadcasts over the admin API: refused in Chinese when they cannot be right, previewed,
queued, delivered once by two schedulers on one database, cancelled."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import httpx
from sqlalchemy import func, select

from nlu import Interpreter
from services.context import Backend
from storage.models import Certificate, Person, RegistryAccount, SmsMessage
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.conftest import ADMIN_TOKEN, FakeClock
from tests.notices.conftest import assistant, china, notices, scheduler_of
from tests.people import make_id_number, make_phone

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def people(backend: Backend, count: int, *, position: str = "安全员", status: str = "非正常") -> None:
    """`count` registered holders of a certificate (written directly; registering is tested elsewhere)."""
    async with backend.transaction() as session:
        for number in range(count):
            person = Person(id_number=make_id_number(), name=f"学员{number}")
            session.add(person)
            await session.flush()
            session.add(RegistryAccount(person_id=person.id, phone=make_phone(), password_hash="-"))
            session.add(
                Certificate(
                    person_id=person.id,
                    certificate_number=f"BC{person.id:08d}",
                    position=position,
                    category="专业人员",
                    status=status,
                    issued_on=date(2021, 9, 2),
                )
            )


async def test_bad_broadcasts_are_refused_in_chinese_and_queue_nothing(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    clock.current = china(2026, 6, 3, 10)
    await people(backend, 2)
    good = {"text": "通知：本周六平台维护。", "audience": {"position": "安全员"}}
    cases = [
        ({**good, "audience": {"position": "材料员"}}, "empty_audience", "没有符合条件的人"),
        ({**good, "text": "  "}, "empty_text", "请填写"),
        ({**good, "text": "字" * 5000}, "text_too_long", "内容太长"),
        ({**good, "start_at": (clock.current - timedelta(hours=1)).isoformat()}, "start_in_past", "已经过去"),
        ({**good, "audience": {"position": "飞行员"}}, "unknown_position", "没有这个岗位"),
    ]
    for body, code, words in cases:
        answer = await client.post("/api/admin/broadcasts", json=body, headers=ADMIN)
        assert answer.status_code == 422, answer.text
        assert answer.json()["error"]["code"] == code and words in answer.json()["error"]["message"]
    assert await notices(backend) == []
    assert (await client.post("/api/admin/broadcasts", json=good)).status_code == 401

    preview = await client.post("/api/admin/broadcasts/preview", json={"status": "非正常"}, headers=ADMIN)
    assert preview.json() == {"people": 2, "chats": 0, "sms_only": 2}
    made = await client.post("/api/admin/broadcasts", json=good, headers=ADMIN)
    assert made.status_code == 201 and made.json()["counts"]["waiting"] == 2
    cancelled = await client.post(f"/api/admin/broadcasts/{made.json()['id']}/cancel", headers=ADMIN)
    assert cancelled.json()["cancelled"] is True and cancelled.json()["counts"]["cancelled"] == 2
    listed = await client.get("/api/admin/broadcasts", headers=ADMIN)
    assert [b["id"] for b in listed.json()] == [made.json()["id"]]


async def test_two_schedulers_on_one_database_deliver_each_notice_once(
    backend: Backend, interpreter: Interpreter, clock: FakeClock
) -> None:
    clock.current = china(2026, 6, 3, 10)
    await people(backend, 60)
    first, second = assistant(backend, interpreter), assistant(backend, interpreter)
    async with uvicorn_serving(first) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        made = await http.post(
            "/api/admin/broadcasts", json={"text": "平台维护通知", "audience": {}}, headers=ADMIN
        )
        assert made.status_code == 201, made.text
        one, two = scheduler_of(first), scheduler_of(second)
        one.batch = two.batch = 7
        try:
            delivered = await asyncio.gather(one.tick(), two.tick())
        finally:
            await one.stop()
            await two.stop()
        status = await http.get(f"/api/admin/broadcasts/{made.json()['id']}", headers=ADMIN)
    assert sorted(delivered) == [0, 60], (
        "one scheduler holds the leader lock (advisory lock, or a file on SQLite)"
    )
    assert status.json()["counts"]["sent"] == 60 and status.json()["finished"] == 60
    async with backend.sessions() as session:
        per_phone = (
            await session.execute(
                select(SmsMessage.phone, func.count())
                .where(SmsMessage.kind == "notice_broadcast")
                .group_by(SmsMessage.phone)
            )
        ).all()
    assert len(per_phone) == 60 and {count for _phone, count in per_phone} == {1}
