"""Lock-outs and SMS limits hold when the requests arrive all at once, not only one after another.

Each burst is 40 requests sent together over HTTP; every limit must count them one by one.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from sqlalchemy import func, select

from services.app import create_app
from services.auth import hash_password
from services.chatlinks.keys import service_key
from services.context import Backend
from storage.models import LearningAccount, Person, RegistryAccount, SmsMessage
from tests.conftest import FakeClock
from tests.learning.conftest import add_person, last_code
from tests.people import make_id_number, make_phone

BURST = 40
LOGINS = {"registry": "/api/registry/sessions", "learning": "/api/learning/login"}
LEFT = re.compile(r"还可以再试(\d)次")


async def _account(backend: Backend, system: str) -> tuple[str, str]:
    """An account of the system whose password is still the phone number: (ID number, phone)."""
    id_number, phone = make_id_number(), make_phone()
    password_hash = await hash_password(phone)
    now = backend.now()
    async with backend.transaction() as session:
        person = Person(id_number=id_number, name="查干湖", created_at=now, updated_at=now)
        session.add(person)
        await session.flush()
        model = RegistryAccount if system == "registry" else LearningAccount
        session.add(model(person_id=person.id, phone=phone, password_hash=password_hash, failed_logins=0))
    return id_number, phone


def _message(answer: httpx.Response) -> str:
    message: str = answer.json()["error"]["message"]
    return message


async def _wrong_burst(client: httpx.AsyncClient, url: str, id_number: str) -> list[httpx.Response]:
    return await asyncio.gather(
        *(client.post(url, json={"login": id_number, "password": f"guess-{n:04d}"}) for n in range(BURST))
    )


def _checked(answers: list[httpx.Response]) -> tuple[list[int], list[httpx.Response]]:
    """The tries left that the wrong passwords were told, and the answers that locked the account."""
    assert {answer.status_code for answer in answers} <= {401, 423}
    told = [LEFT.search(_message(answer)) for answer in answers if answer.status_code == 401]
    left = sorted(int(match.group(1)) for match in told if match)
    locking = [a for a in answers if a.status_code == 423 and "已锁定15分钟" in _message(a)]
    return left, locking


@pytest.mark.parametrize("system", ["registry", "learning"])
async def test_parallel_wrong_passwords_get_five_checks_per_lock(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, system: str
) -> None:
    id_number, phone = await _account(backend, system)
    url = LOGINS[system]

    for _window in range(2):
        left, locking = _checked(await _wrong_burst(client, url, id_number))
        assert left == [1, 2, 3, 4], "four wrong passwords are told how many tries are left"
        assert len(locking) == 1, "the fifth locks the account; the other 35 are not checked at all"
        locked = await client.post(url, json={"login": id_number, "password": phone})
        assert locked.status_code == 423, "while locked even the right password is refused"
        assert "请15分钟后再试" in _message(locked)
        clock.advance(minutes=15)

    # The fifth try locks before its password is checked; a right one lifts the lock and the count.
    for _ in range(4):
        assert (await client.post(url, json={"login": id_number, "password": "not-it"})).status_code == 401
    assert (await client.post(url, json={"login": id_number, "password": phone})).status_code == 200
    again = await client.post(url, json={"login": id_number, "password": "not-it"})
    assert "还可以再试4次" in _message(again)


async def _outbox_size(backend: Backend, phone: str) -> int:
    async with backend.sessions() as session:
        count = await session.scalar(select(func.count(SmsMessage.id)).where(SmsMessage.phone == phone))
    return int(count or 0)


def _codes(answers: list[httpx.Response]) -> list[str]:
    return [answer.json()["error"]["code"] for answer in answers]


async def test_parallel_wrong_codes_at_registration_get_five_tries(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    _, id_number = await add_person(backend, "查干湖", [])
    phone = make_phone()
    assert (await client.post("/api/learning/sms-codes", json={"phone": phone})).status_code == 202
    code = await last_code(backend, phone)
    wrong = [f"{(int(code) + n) % 1_000_000:06d}" for n in range(1, BURST + 1)]
    body = {"name": "查干湖", "id_number": id_number, "phone": phone}

    answers = await asyncio.gather(
        *(client.post("/api/learning/accounts", json={**body, "code": guess}) for guess in wrong)
    )
    verdicts = _codes(answers)
    assert verdicts.count("sms_code_wrong") == 5
    assert verdicts.count("sms_code_exhausted") == BURST - 5
    right = await client.post("/api/learning/accounts", json={**body, "code": code})
    assert right.json()["error"]["code"] == "sms_code_exhausted"


async def test_parallel_wrong_codes_binding_a_chat_get_five_tries(backend: Backend) -> None:
    """The assistant's binding route, part of the backend's app."""
    app = create_app(backend)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test"
    ) as client:
        await _bind_burst(client, backend)


async def _bind_burst(client: httpx.AsyncClient, backend: Backend) -> None:
    phone = make_phone()
    assert (
        await client.post("/api/sms/codes", json={"phone": phone, "purpose": "bind_chat"})
    ).status_code == 202
    code = await last_code(backend, phone)
    headers = {"Authorization": f"Bearer {service_key(backend.settings.secret_key)}"}

    def bind(guess: str, n: int) -> dict[str, str]:
        return {"sender_id": f"rest:guess-{n}", "phone": phone, "code": guess}

    answers = await asyncio.gather(
        *(
            client.post(
                "/api/assistant/bindings",
                json=bind(f"{(int(code) + n) % 1_000_000:06d}", n),
                headers=headers,
            )
            for n in range(1, BURST + 1)
        )
    )
    verdicts = _codes(answers)
    assert verdicts.count("sms_code_wrong") == 5
    assert verdicts.count("sms_code_exhausted") == BURST - 5
    right = await client.post("/api/assistant/bindings", json=bind(code, 0), headers=headers)
    assert right.json()["error"]["code"] == "sms_code_exhausted"


@pytest.mark.parametrize(
    ("url", "body"),
    [("/api/sms/codes", {"purpose": "bind_chat"}), ("/api/learning/sms-codes", {})],
    ids=["sms", "learning"],
)
async def test_a_burst_of_code_requests_texts_one_code(
    client: httpx.AsyncClient, backend: Backend, url: str, body: dict[str, str]
) -> None:
    phone = make_phone()
    answers = await asyncio.gather(*(client.post(url, json={**body, "phone": phone}) for _ in range(BURST)))
    assert [answer.status_code for answer in answers].count(202) == 1
    assert {answer.json()["error"]["code"] for answer in answers if answer.status_code != 202} == {
        "sms_too_soon"
    }
    assert await _outbox_size(backend, phone) == 1


async def test_a_burst_of_code_requests_stops_at_the_daily_ten(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    """Nine codes today; then 40 requests for both purposes at once may text only the tenth."""
    phone = make_phone()
    for _ in range(9):
        sent = await client.post("/api/sms/codes", json={"phone": phone, "purpose": "bind_chat"})
        assert sent.status_code == 202
        clock.advance(seconds=61)
    purposes = ["bind_chat", "register_learning"]
    answers = await asyncio.gather(
        *(
            client.post("/api/sms/codes", json={"phone": phone, "purpose": purposes[n % 2]})
            for n in range(BURST)
        )
    )
    assert [answer.status_code for answer in answers].count(202) == 1
    assert await _outbox_size(backend, phone) == 10


@pytest.mark.parametrize("system", ["registry", "learning"])
async def test_parallel_wrong_old_passwords_count_toward_the_lock(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, system: str
) -> None:
    """A stolen login is no way round the lock-out: wrong old passwords are guesses like logins."""
    id_number, phone = await _account(backend, system)
    logged_in = await client.post(LOGINS[system], json={"login": id_number, "password": phone})
    headers = {"Authorization": f"Bearer {logged_in.json()['token']}"}

    answers = await asyncio.gather(
        *(
            client.put(
                f"/api/{system}/password",
                json={"old_password": f"guess-{n:04d}", "new_password": f"Jilin{n:04d}ok"},
                headers=headers,
            )
            for n in range(BURST)
        )
    )
    assert {answer.status_code for answer in answers} <= {401, 423}
    told = [LEFT.search(_message(answer)) for answer in answers if answer.status_code == 401]
    assert all(_message(a).startswith("原密码不对") for a in answers if a.status_code == 401)
    assert sorted(int(match.group(1)) for match in told if match) == [1, 2, 3, 4]
    assert len([a for a in answers if "已锁定15分钟" in _message(a)]) == 1

    locked = await client.post(LOGINS[system], json={"login": id_number, "password": phone})
    assert locked.status_code == 423, "the guesses at the old password locked the login too"
    refused = await client.put(
        f"/api/{system}/password",
        json={"old_password": phone, "new_password": "Jilin2026ok"},
        headers=headers,
    )
    assert refused.status_code == 423, "and the change itself, even with the right old password"

    clock.advance(minutes=15)
    changed = await client.put(
        f"/api/{system}/password",
        json={"old_password": phone, "new_password": "Jilin2026ok"},
        headers=headers,
    )
    assert changed.status_code == 204
    assert (
        await client.post(LOGINS[system], json={"login": id_number, "password": "Jilin2026ok"})
    ).status_code == 200
