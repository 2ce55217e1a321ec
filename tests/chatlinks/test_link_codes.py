"""A bound chat's one-time link code binds another chat to the same person, once: within 10 minutes,
by the one chat that presents it first; an unknown, forged, spent or expired code binds nothing and
says why. The code itself is never stored, only its keyed hash."""

from __future__ import annotations

import asyncio
import re

import httpx
from sqlalchemy import select

from services.chatlinks.keys import service_key
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ChatBinding, ChatLinkCode
from tests.assistant.stories import DEMO_ID, bind_demo_trainee, latest_code
from tests.conftest import ADMIN_TOKEN, FakeClock
from tests.registry.signup import register_registry

WEB = "rest:web-chat"


def service(backend: Backend, chat: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {service_key(backend.settings.secret_key)}"}
    return headers | ({"X-Jianpei-Chat": chat} if chat else {})


async def make_code(client: httpx.AsyncClient, backend: Backend, chat: str = WEB) -> str:
    made = await client.post("/api/assistant/chat-links", headers=service(backend, chat))
    assert made.status_code == 201, made.text
    code = str(made.json()["code"])
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,64}", code), "Telegram's /start payload takes it as it is"
    return code


async def redeem(client: httpx.AsyncClient, backend: Backend, chat: str, code: str) -> httpx.Response:
    return await client.post(
        "/api/assistant/chat-links/redeem", json={"sender_id": chat, "code": code}, headers=service(backend)
    )


async def bound_to(client: httpx.AsyncClient, backend: Backend, chat: str) -> str | None:
    answer = await client.get("/api/assistant/binding", headers=service(backend, chat))
    assert answer.status_code == 200, answer.text
    return answer.json()["name"] if answer.json()["bound"] else None


async def test_a_code_binds_a_new_chat_to_the_person_once_and_is_kept_only_hashed(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(client, backend, WEB)
    code = await make_code(client, backend)

    first = await redeem(client, backend, "telegram:7001", code)
    assert first.status_code == 201, first.text
    assert first.json()["name"] == "古林前"
    assert await bound_to(client, backend, "telegram:7001") == "古林前"

    again = await redeem(client, backend, "telegram:7002", code)
    assert again.status_code == 409
    assert "已经用过" in again.json()["error"]["message"]
    assert await bound_to(client, backend, "telegram:7002") is None

    async with backend.sessions() as session:
        rows = (await session.scalars(select(ChatLinkCode))).all()
    assert [(row.made_by, row.used_by) for row in rows] == [(WEB, "telegram:7001")]
    assert code not in repr([vars(row) for row in rows])


async def test_forged_malformed_and_expired_codes_bind_nothing_and_say_why(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(client, backend, WEB)
    code = await make_code(client, backend)
    forged = code[:-1] + ("A" if code[-1] != "A" else "B")
    for wrong in (forged, "", "加上中文", "a" * 65, "x' OR '1'='1"):
        refused = await redeem(client, backend, "telegram:7003", wrong)
        assert refused.status_code == 404, refused.text
        assert "绑定链接不对" in refused.json()["error"]["message"]

    clock.advance(minutes=10, seconds=1)
    expired = await redeem(client, backend, "telegram:7003", code)
    assert expired.status_code == 410
    assert "过期" in expired.json()["error"]["message"]
    assert await bound_to(client, backend, "telegram:7003") is None
    async with backend.sessions() as session:
        assert await session.scalar(select(ChatLinkCode.used_at)) is None


async def test_a_code_just_inside_ten_minutes_still_binds(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(client, backend, WEB)
    code = await make_code(client, backend)
    clock.advance(minutes=9, seconds=59)
    assert (await redeem(client, backend, "telegram:7004", code)).status_code == 201


async def test_two_chats_presenting_one_code_at_once_get_one_binding(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(client, backend, WEB)
    code = await make_code(client, backend)
    chats = [f"telegram:{8000 + n}" for n in range(6)]
    answers = await asyncio.gather(*(redeem(client, backend, chat, code) for chat in chats))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 5
    async with backend.sessions() as session:
        bound = (
            await session.scalars(select(ChatBinding.sender_id).where(ChatBinding.sender_id.in_(chats)))
        ).all()
    winner = chats[[a.status_code for a in answers].index(201)]
    assert bound == [winner]


async def test_only_a_bound_chat_gets_a_code_and_only_the_assistant_asks(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    await load_demo_data(backend)
    unbound = await client.post("/api/assistant/chat-links", headers=service(backend, "rest:nobody"))
    assert unbound.status_code == 403
    assert "先绑定" in unbound.json()["error"]["message"]
    await bind_demo_trainee(client, backend, WEB)
    stranger = await client.post("/api/assistant/chat-links", headers={"X-Jianpei-Chat": WEB})
    assert stranger.status_code == 403
    code = await make_code(client, backend)
    taken = await client.post("/api/assistant/chat-links/redeem", json={"sender_id": "x", "code": code})
    assert taken.status_code == 403
    assert (await redeem(client, backend, "telegram:7005", code)).status_code == 201


async def test_a_chat_bound_to_someone_else_is_rebound_as_an_sms_code_would_rebind_it(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    other_phone = "13900000004"
    registered = await register_registry(
        client, name="查干湖", id_number="220723197011030711", phone=other_phone
    )
    assert registered.status_code == 201, registered.text
    clock.advance(seconds=61)  # the wait before another code to the same phone
    sent = await client.post("/api/sms/codes", json={"phone": other_phone, "purpose": "bind_chat"})
    assert sent.status_code == 202, sent.text
    body = {
        "sender_id": "telegram:7006",
        "phone": other_phone,
        "code": await latest_code(backend, other_phone),
    }
    assert (
        await client.post("/api/assistant/bindings", json=body, headers=service(backend))
    ).status_code == 201
    assert await bound_to(client, backend, "telegram:7006") == "查干湖"

    await bind_demo_trainee(client, backend, WEB)
    assert (
        await redeem(client, backend, "telegram:7006", await make_code(client, backend))
    ).status_code == 201
    assert await bound_to(client, backend, "telegram:7006") == "古林前"


async def test_a_reset_account_s_unspent_link_binds_nothing(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    """Staff reset an account someone else had registered: a link that someone's chat made just
    before must not bind a new chat to the person afterwards."""
    await load_demo_data(backend)
    await bind_demo_trainee(client, backend, WEB)
    code = await make_code(client, backend)
    reset = await client.post(
        "/api/admin/registry/account-resets",
        json={"id_number": DEMO_ID, "reason": "本人持身份证到场核实", "operator": "客服小王"},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert reset.status_code == 201, reset.text
    refused = await redeem(client, backend, "telegram:7007", code)
    assert refused.status_code == 404
    assert await bound_to(client, backend, "telegram:7007") is None
