"""Registering in the management system needs the SMS code texted to the phone; nothing is stored
without it. On SQLite and PostgreSQL, over HTTP."""

from __future__ import annotations

import httpx
from sqlalchemy import func, select

from services.context import Backend
from storage.models import Person, RegistryAccount, SmsCode, SmsMessage
from tests.people import make_id_number, make_phone
from tests.registry.signup import ask_code, register_registry, texted_code


async def count(backend: Backend, model: type) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


def details(**fields: str) -> dict[str, str]:
    return {"name": "白山松", "id_number": make_id_number(), "phone": make_phone(), **fields}


async def test_without_a_code_or_with_a_wrong_one_nothing_is_stored(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    body = details()
    no_code = await client.post("/api/registry/accounts", json=body)
    assert no_code.status_code == 422
    assert no_code.json()["error"]["message"].startswith("缺少")

    never_asked = await client.post("/api/registry/accounts", json={**body, "code": "123456"})
    assert never_asked.status_code == 422
    assert never_asked.json()["error"]["code"] == "sms_code_missing"

    assert (await ask_code(client, **body)).status_code == 202
    code = await texted_code(client, body["phone"])
    wrong = "000000" if code != "000000" else "111111"
    refused = await client.post("/api/registry/accounts", json={**body, "code": wrong})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "sms_code_wrong"
    assert "验证码不对" in refused.json()["error"]["message"]

    assert await count(backend, Person) == 0
    assert await count(backend, RegistryAccount) == 0
    async with backend.sessions() as session:
        assert await session.scalar(select(SmsCode.attempts)) == 1, "the wrong try is counted"

    made = await client.post("/api/registry/accounts", json={**body, "code": code})
    assert made.status_code == 201, made.text
    assert await count(backend, RegistryAccount) == 1
    again = await client.post("/api/registry/accounts", json={**body, "code": code})
    assert again.status_code == 201, "the same registration sent again is told the same success"
    assert await count(backend, RegistryAccount) == 1, "and nothing is written twice"


async def test_a_code_texted_to_another_phone_or_for_the_platform_does_not_register(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    """The code proves the phone: a pre-emptor's own code does not register the worker's phone."""
    own = details()
    assert (await ask_code(client, **own)).status_code == 202
    own_code = await texted_code(client, own["phone"])
    victim_phone = make_phone()
    other = await client.post("/api/registry/accounts", json={**own, "phone": victim_phone, "code": own_code})
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "sms_code_missing"

    platform = details()
    assert (
        await client.post("/api/learning/sms-codes", json={"phone": platform["phone"]})
    ).status_code == 202
    platform_code = await texted_code(client, platform["phone"], "register_learning")
    crossed = await client.post("/api/registry/accounts", json={**platform, "code": platform_code})
    assert crossed.status_code == 422
    assert await count(backend, RegistryAccount) == 0


async def test_the_code_request_checks_the_details_before_texting(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    taken = details()
    assert (await register_registry(client, **taken)).status_code == 201
    texted = await count(backend, SmsMessage)

    cases = [
        ({"id_number": taken["id_number"]}, 409, "id_number_taken"),
        ({"phone": taken["phone"]}, 409, "phone_taken"),
        ({"id_number": taken["id_number"][:-1] + "Y"}, 422, "invalid_id_number"),
        ({"phone": "12345"}, 422, "invalid_phone"),
        ({"name": "abc"}, 422, "invalid_name"),
    ]
    for fields, status, code in cases:
        refused = await ask_code(client, **details(**fields))
        assert refused.status_code == status, fields
        assert refused.json()["error"]["code"] == code
    assert await count(backend, SmsMessage) == texted, "no code was texted for a refused registration"

    text = (
        await client.get("/api/admin/sms-outbox", headers={"Authorization": "Bearer test-admin-token"})
    ).json()
    assert "管理系统注册" in text[0]["text"]
