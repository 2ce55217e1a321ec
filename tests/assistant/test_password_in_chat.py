"""The password changed in chat: typed once, checked by the same rules as on the site, set for both
systems at once, never said back and never stored; a chat bound to nobody changes nothing."""

from __future__ import annotations

import json

import httpx
from sqlalchemy import select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ConversationEvent
from tests.assistant.stories import DEMO_ID, DEMO_PHONE, bind_demo_trainee, register_demo_on_platform
from tests.conftest import FakeClock

NEW = "Changchun2026x"


async def say(http: httpx.AsyncClient, clock: FakeClock, sender: str, text: str) -> str:
    clock.advance(seconds=5)
    answer = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert answer.status_code == 200, answer.text
    return "\n".join(a.get("text") or "" for a in answer.json())


async def logs_in(http: httpx.AsyncClient, password: str) -> tuple[bool, bool]:
    registry = await http.post("/api/registry/sessions", json={"login": DEMO_ID, "password": password})
    learning = await http.post("/api/learning/login", json={"login": DEMO_ID, "password": password})
    return registry.status_code == 200, learning.status_code == 200


async def test_a_weak_password_is_refused_with_its_reason_and_a_good_one_set_for_both_systems(
    chat_http: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(chat_http, backend, "rest:pw")
    clock.advance(seconds=61)
    await register_demo_on_platform(chat_http, backend)
    said = [await say(chat_http, clock, "pw", "我想改个密码咋整")]
    assert "8到32位" in said[-1]
    said.append(await say(chat_http, clock, "pw", "mima12"))
    assert "8到32位" in said[-1] and "再输一个" in said[-1]
    assert await logs_in(chat_http, DEMO_PHONE) == (True, True), "a refused password changes nothing"
    said.append(await say(chat_http, clock, "pw", NEW))
    assert "都改好了" in said[-1]

    assert await logs_in(chat_http, NEW) == (True, True)
    assert await logs_in(chat_http, DEMO_PHONE) == (False, False)
    assert not [answer for answer in said if NEW in answer or "mima12" in answer]
    async with backend.sessions() as session:
        rows = (
            await session.scalars(
                select(ConversationEvent.data).where(ConversationEvent.sender_id == "rest:pw")
            )
        ).all()
    assert rows
    assert not [row for row in rows if NEW in json.dumps(json.loads(row), ensure_ascii=False)]
    assert "不改了" in await say(chat_http, clock, "pw", "改密码") and "已取消" in await say(
        chat_http, clock, "pw", "算了"
    )


async def test_an_unbound_chat_is_asked_to_bind_and_no_password_is_taken(
    chat_http: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    assert "先绑定" in await say(chat_http, clock, "nobody", "改密码")
    assert "改好了" not in await say(chat_http, clock, "nobody", NEW)
    assert await logs_in(chat_http, DEMO_PHONE) == (True, False)
