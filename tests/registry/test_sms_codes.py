"""Verification codes: 6 digits, 5 minutes, 5 tries, resend after 60 s; every text lands in the outbox."""

from __future__ import annotations

import re

import httpx
import pytest

from services.context import Backend
from services.errors import AppError
from services.sms.codes import CodePolicy, Purpose, Verdict, check_code, raise_for
from tests.conftest import FakeClock
from tests.people import make_phone


async def request_code(client: httpx.AsyncClient, phone: str, purpose: str = "bind_chat") -> httpx.Response:
    return await client.post("/api/sms/codes", json={"phone": phone, "purpose": purpose})


async def code_from_outbox(client: httpx.AsyncClient, admin_headers: dict[str, str], phone: str) -> str:
    outbox = (
        await client.get("/api/admin/sms-outbox", params={"phone": phone}, headers=admin_headers)
    ).json()
    match = re.search(r"验证码是(\d{6})", outbox[0]["text"])
    assert match, outbox
    return match.group(1)


async def judge(backend: Backend, phone: str, code: str) -> Verdict:
    async with backend.transaction() as session:
        return await check_code(
            session,
            phone=phone,
            purpose=Purpose.BIND_CHAT,
            code=code,
            policy=CodePolicy.from_settings(backend.settings),
            secret=backend.settings.secret_key,
            now=backend.now(),
        )


async def test_code_is_sent_to_the_outbox_and_accepted_once(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    phone = make_phone()
    response = await request_code(client, f"{phone[:3]} {phone[3:7]} {phone[7:]}")
    assert response.status_code == 202
    assert response.json()["phone"] == phone
    code = await code_from_outbox(client, admin_headers, phone)
    assert await judge(backend, phone, code) is Verdict.OK
    assert await judge(backend, phone, code) is Verdict.MISSING, "a used code cannot be used again"


async def test_resend_waits_sixty_seconds(client: httpx.AsyncClient, clock: FakeClock) -> None:
    phone = make_phone()
    assert (await request_code(client, phone)).status_code == 202
    clock.advance(seconds=30)
    too_soon = await request_code(client, phone)
    assert too_soon.status_code == 429
    assert "请30秒后再获取" in too_soon.json()["error"]["message"]
    clock.advance(seconds=30)
    assert (await request_code(client, phone)).status_code == 202


async def test_code_expires_after_five_minutes(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, admin_headers: dict[str, str]
) -> None:
    phone = make_phone()
    await request_code(client, phone)
    code = await code_from_outbox(client, admin_headers, phone)
    clock.advance(minutes=4, seconds=59)
    assert await judge(backend, phone, "000000" if code != "000000" else "111111") is Verdict.WRONG
    clock.advance(seconds=1)
    assert await judge(backend, phone, code) is Verdict.EXPIRED


async def test_five_wrong_tries_use_the_code_up(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    phone = make_phone()
    await request_code(client, phone)
    code = await code_from_outbox(client, admin_headers, phone)
    wrong = "123456" if code != "123456" else "654321"
    for _ in range(5):
        assert await judge(backend, phone, wrong) is Verdict.WRONG
    assert await judge(backend, phone, code) is Verdict.EXHAUSTED


async def test_a_new_code_replaces_the_old_one(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock, admin_headers: dict[str, str]
) -> None:
    phone = make_phone()
    await request_code(client, phone)
    first = await code_from_outbox(client, admin_headers, phone)
    clock.advance(seconds=61)
    await request_code(client, phone)
    second = await code_from_outbox(client, admin_headers, phone)
    if first != second:
        assert await judge(backend, phone, first) is Verdict.WRONG
    assert await judge(backend, phone, second) is Verdict.OK


def test_failed_verdicts_become_chinese_errors() -> None:
    with pytest.raises(AppError, match="过期") as expired:
        raise_for(Verdict.EXPIRED)
    assert expired.value.code == "sms_code_expired"
    raise_for(Verdict.OK)


async def test_bad_phone_and_purpose_are_refused(client: httpx.AsyncClient) -> None:
    bad_phone = await request_code(client, "12345")
    assert bad_phone.status_code == 422
    assert bad_phone.json()["error"]["code"] == "invalid_phone"
    bad_purpose = await request_code(client, make_phone(), purpose="drop table")
    assert bad_purpose.status_code == 422


async def test_outbox_needs_the_admin_token(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/admin/sms-outbox")).status_code == 401
    wrong = await client.get("/api/admin/sms-outbox", headers={"Authorization": "Bearer guess"})
    assert wrong.status_code == 403
