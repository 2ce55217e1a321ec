"""A registration whose answer was lost is retried with the same code and told the same success;
nothing is written twice, and the code opens nothing else."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import func, select

from services.context import Backend
from storage.models import LearningAccount, Person, RegistryAccount
from tests.conftest import FakeClock
from tests.learning.conftest import last_code
from tests.people import make_id_number, make_phone

URLS = {
    "registry": ("/api/registry/sms-codes", "/api/registry/accounts", RegistryAccount),
    "learning": ("/api/learning/sms-codes", "/api/learning/accounts", LearningAccount),
}


async def _rows(
    backend: Backend, id_number: str, model: type[RegistryAccount | LearningAccount]
) -> tuple[int, int]:
    async with backend.sessions() as session:
        people = await session.scalar(select(func.count(Person.id)).where(Person.id_number == id_number))
        accounts = await session.scalar(
            select(func.count(model.id)).join(Person).where(Person.id_number == id_number)
        )
    return int(people or 0), int(accounts or 0)


@pytest.mark.parametrize("system", ["registry", "learning"])
async def test_a_retried_registration_is_told_the_same_success(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, system: str
) -> None:
    codes_url, accounts_url, model = URLS[system]
    body = {"name": "查干湖", "id_number": make_id_number(), "phone": make_phone()}
    asked = {"phone": body["phone"]} if system == "learning" else body
    assert (await client.post(codes_url, json=asked)).status_code == 202
    code = await last_code(backend, body["phone"])

    first = await client.post(accounts_url, json={**body, "code": code})
    again = await client.post(accounts_url, json={**body, "code": code})
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert await _rows(backend, body["id_number"], model) == (1, 1)

    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert (await client.post(accounts_url, json={**body, "code": wrong})).status_code == 409
    other_phone = await client.post(accounts_url, json={**body, "phone": make_phone(), "code": code})
    assert other_phone.status_code == 409, "the code proves its own phone only"

    clock.advance(minutes=6)
    late = await client.post(accounts_url, json={**body, "code": code})
    assert late.status_code == 409, "once the code has expired, it is an ordinary second registration"
    assert await _rows(backend, body["id_number"], model) == (1, 1)
