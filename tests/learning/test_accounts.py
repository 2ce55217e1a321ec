"""Platform accounts: an SMS code is needed to register, wrong codes are counted, and the login
pulls the person's certificates from the management system."""

from __future__ import annotations

from datetime import date

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Certificate, LearningAccount, LearningCertificate
from tests.conftest import FakeClock
from tests.learning.conftest import add_person, last_code, register_and_login
from tests.people import make_phone, make_wrong_check_id_number


async def accounts(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count(LearningAccount.id))) or 0)


async def test_registration_needs_the_right_code(client: httpx.AsyncClient, backend: Backend) -> None:
    _, id_number = await add_person(backend, "长白山", [("400001", "安全员")])
    phone = make_phone()
    body = {"name": "长白山", "id_number": id_number, "phone": phone, "code": "000000"}
    missing = await client.post("/api/learning/accounts", json=body)
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "sms_code_missing"

    assert (await client.post("/api/learning/sms-codes", json={"phone": phone})).status_code == 202
    code = await last_code(backend, phone)
    wrong = "111111" if code != "111111" else "222222"
    for _ in range(5):
        answer = await client.post("/api/learning/accounts", json={**body, "code": wrong})
        assert answer.status_code == 422 and answer.json()["error"]["code"] == "sms_code_wrong"
    # Five wrong tries were counted and committed: now even the right code is refused.
    exhausted = await client.post("/api/learning/accounts", json={**body, "code": code})
    assert exhausted.json()["error"]["code"] == "sms_code_exhausted"
    assert await accounts(backend) == 0


async def test_register_login_and_pull_certificates(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    person_id, id_number = await add_person(backend, "长白山", [("400002", "安全员"), ("400003", "机械员")])
    trainee = await register_and_login(client, backend, "长白山", id_number)
    listed = (await client.get("/api/learning/me/certificates", headers=trainee.headers)).json()
    assert [c["certificate_number"] for c in listed] == ["400002", "400003"]
    assert listed[0]["status"] == "非正常" and listed[0]["remark"] == "未按要求完成继续教育"

    # A certificate the authority uploads later arrives with the next login, once.
    async with backend.transaction() as session:
        session.add(
            Certificate(
                person_id=person_id,
                certificate_number="400004",
                position="资料员",
                category="专业人员",
                status="正常",
                remark="",
                issued_on=date(2024, 1, 2),
            )
        )
    again = await client.post("/api/learning/login", json={"login": id_number, "password": trainee.phone})
    assert again.json()["certificates_pulled"] == 1
    third = await client.post("/api/learning/login", json={"login": id_number, "password": trainee.phone})
    assert third.json()["certificates_pulled"] == 0 and third.json()["must_change_password"] is True
    async with backend.sessions() as session:
        assert await session.scalar(select(func.count(LearningCertificate.id))) == 3

    # Tokens of the platform do not open the management system, and the reverse.
    registry = await client.get("/api/registry/me", headers=trainee.headers)
    assert registry.status_code == 401


async def test_taken_phone_taken_id_and_wrong_name(client: httpx.AsyncClient, backend: Backend) -> None:
    _, id_number = await add_person(backend, "长白山", [("400005", "安全员")])
    trainee = await register_and_login(client, backend, "长白山", id_number)

    taken = await client.post("/api/learning/sms-codes", json={"phone": trainee.phone})
    assert taken.status_code == 409 and taken.json()["error"]["code"] == "phone_taken"

    phone = make_phone()
    await client.post("/api/learning/sms-codes", json={"phone": phone})
    code = await last_code(backend, phone)
    twice = await client.post(
        "/api/learning/accounts",
        json={"name": "长白山", "id_number": id_number, "phone": phone, "code": code},
    )
    assert twice.status_code == 409 and twice.json()["error"]["code"] == "id_number_taken"
    wrong_name = await client.post(
        "/api/learning/accounts",
        json={"name": "净月潭", "id_number": id_number, "phone": phone, "code": code},
    )
    assert wrong_name.status_code == 422 and "姓名" in wrong_name.json()["error"]["message"]
    bad_id = await client.post(
        "/api/learning/accounts",
        json={"name": "净月潭", "id_number": make_wrong_check_id_number(), "phone": phone, "code": code},
    )
    assert bad_id.status_code == 422
    assert await accounts(backend) == 1


async def test_wrong_passwords_lock_the_account(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    _, id_number = await add_person(backend, "长白山", [("400006", "安全员")])
    trainee = await register_and_login(client, backend, "长白山", id_number)
    for _ in range(4):
        answer = await client.post("/api/learning/login", json={"login": id_number, "password": "nope1234"})
        assert answer.status_code == 401
    locked = await client.post("/api/learning/login", json={"login": id_number, "password": "nope1234"})
    assert locked.status_code == 423
    still = await client.post("/api/learning/login", json={"login": id_number, "password": trainee.phone})
    assert still.status_code == 423
    clock.advance(minutes=16)
    assert (
        await client.post("/api/learning/login", json={"login": id_number, "password": trainee.phone})
    ).status_code == 200
