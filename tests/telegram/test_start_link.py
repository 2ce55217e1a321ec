"""用Telegram继续: a trainee bound in the web chat asks, as people type it, to go on in Telegram and
gets a t.me link with a one-time code; the Telegram chat that starts with it (`/start <code>`, as the
fake Bot API delivers it to the webhook) is bound to him and shows his own certificates. The same
code again, a forged one and an expired one bind nothing and say why; two chats at once get one
binding. Neither chat's stored history holds the code."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

import actions.links
from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ChatBinding, ConversationEvent
from tests.assistant.stories import DEMO_PHONE, bind_demo_trainee, latest_code
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser
from tests.telegram.fake_api import TOKEN, FakeTelegram

WEB = "web-3f9a"  # the web chat's own sender id; its conversation is rest:<sender>
LINK = re.compile(r"https://t\.me/jianpei_test_bot\?start=(?P<code>[A-Za-z0-9_-]{1,64})(?![A-Za-z0-9_-])")


async def web_says(http: httpx.AsyncClient, clock: FakeClock, text: str, sender: str = WEB) -> str:
    clock.advance(seconds=5)
    answer = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
    assert answer.status_code == 200, answer.text
    return "\n".join(a.get("text") or "" for a in answer.json())


def telegram_chat(http: httpx.AsyncClient, fake: FakeTelegram, app: FastAPI, chat_id: int) -> TelegramUser:
    return TelegramUser(http, fake, app.state.telegram, chat_id)


async def link_code(http: httpx.AsyncClient, clock: FakeClock, ask: str = "用Telegram继续") -> str:
    said = await web_says(http, clock, ask)
    found = LINK.search(said)
    assert found, said
    assert "10分钟" in said and "一次" in said
    return found.group("code")


async def stored_history(backend: Backend, *senders: str) -> str:
    async with backend.sessions() as session:
        rows = await session.scalars(
            select(ConversationEvent.data).where(ConversationEvent.sender_id.in_(senders))
        )
        return "\n".join(rows)


async def test_a_web_chat_link_binds_a_new_telegram_chat_to_the_same_trainee_once(
    tg_http: httpx.AsyncClient, telegram_app: FastAPI, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(tg_http, backend, f"rest:{WEB}")
    codes = [
        await link_code(tg_http, clock, ask)
        for ask in ("用Telegram继续", "绑定电报", "我想在telegarm上办", "手机上用tg")
    ]
    assert len(set(codes)) == 4

    phone = telegram_chat(tg_http, fake, telegram_app, 5101)
    clock.advance(seconds=5)
    started = await phone.say(f"/start {codes[-1]}")
    assert "已绑定：古**" in started
    assert "我能帮您办这些事" in started
    clock.advance(seconds=5)
    assert "您的证书（古林前）" in await phone.say("查下我的证书")
    clock.advance(seconds=5)
    assert "就是在Telegram里" in await phone.say("用telegram继续")

    other = telegram_chat(tg_http, fake, telegram_app, 5102)
    clock.advance(seconds=5)
    again = await other.say(f"/start {codes[-1]}")
    assert "已经用过" in again and "已绑定" not in again
    assert "建培助手" in again, "then the greeting: binding by SMS code still works"
    clock.advance(seconds=5)
    assert "先绑定" in await other.say("查下我的证书")

    history = await stored_history(backend, f"rest:{WEB}", phone.conversation_id, other.conversation_id)
    assert "已绑定" in history and "t.me/jianpei_test_bot" in history
    assert not [code for code in codes if code in history]


async def test_a_forged_or_expired_code_binds_nothing_and_the_greeting_follows(
    tg_http: httpx.AsyncClient, telegram_app: FastAPI, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(tg_http, backend, f"rest:{WEB}")
    code = await link_code(tg_http, clock)
    phone = telegram_chat(tg_http, fake, telegram_app, 5103)

    forged = code[:-2] + ("xy" if code[-2:] != "xy" else "zw")
    clock.advance(seconds=5)
    refused = await phone.say(f"/start {forged}")
    assert "绑定链接不对" in refused and "建培助手" in refused

    clock.advance(seconds=5)
    plain = await phone.say("/start 你好")  # typed by hand: no link could carry it, so just /start
    assert "建培助手" in plain and "不对" not in plain

    clock.advance(minutes=10)
    expired = await phone.say(f"/start {code}")
    assert "过期" in expired and "建培助手" in expired
    clock.advance(seconds=5)
    assert "先绑定" in await phone.say("我的证书")
    assert forged not in await stored_history(backend, phone.conversation_id)


async def test_a_code_sent_while_staff_hold_the_chat_is_not_stored_either(
    tg_http: httpx.AsyncClient, telegram_app: FastAPI, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(tg_http, backend, f"rest:{WEB}")
    code = await link_code(tg_http, clock)
    phone = telegram_chat(tg_http, fake, telegram_app, 5104)
    clock.advance(seconds=5)
    assert "人工客服" in await phone.say("转人工")
    clock.advance(seconds=5)
    assert "已绑定" not in await phone.say(f"/start {code}")
    history = await stored_history(backend, phone.conversation_id)
    assert "redeem_chat_link" in history and code not in history


async def test_two_telegram_chats_starting_with_one_code_at_once_get_one_binding(
    tg_http: httpx.AsyncClient, telegram_app: FastAPI, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(tg_http, backend, f"rest:{WEB}")
    code = await link_code(tg_http, clock)
    chats = [telegram_chat(tg_http, fake, telegram_app, 5200 + n) for n in range(4)]
    said = await asyncio.gather(*(chat.say(f"/start {code}") for chat in chats))
    assert sum("已绑定：古**" in text for text in said) == 1, said
    assert sum("已经用过" in text for text in said) == 3, said
    async with backend.sessions() as session:
        bound = (
            await session.scalars(
                select(ChatBinding.sender_id).where(ChatBinding.sender_id.like("telegram:52%"))
            )
        ).all()
    assert len(bound) == 1


async def test_an_unbound_web_chat_binds_first_and_then_gets_the_link(
    tg_http: httpx.AsyncClient, telegram_app: FastAPI, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    said = await web_says(tg_http, clock, "我想在telegram上办")
    assert "先绑定" in said and "t.me" not in said
    assert "手机号" in await web_says(tg_http, clock, "绑定已有账号")
    assert "6位" in await web_says(tg_http, clock, DEMO_PHONE)
    bound = await web_says(tg_http, clock, await latest_code(backend, DEMO_PHONE))
    assert "绑定成功" in bound and LINK.search(bound), bound


async def test_without_a_telegram_channel_the_trainee_is_told_where_else_to_go_on(
    backend: Backend, interpreter: Interpreter, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test"
    ) as http:
        await bind_demo_trainee(http, backend, f"rest:{WEB}")
        said = await web_says(http, clock, "绑定电报")
    assert "还没有开通Telegram" in said and "微信" in said and "t.me" not in said


async def test_a_standalone_action_server_names_the_bot_by_asking_telegram(
    fake: FakeTelegram, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under `python -m rasa_sdk --actions actions` nothing is handed in: the token in the environment
    is the bot, and getMe names it."""
    monkeypatch.setattr(actions.links, "_configured", False)
    monkeypatch.setattr(actions.links, "_from_environment", None)
    monkeypatch.setenv("JIANPEI_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("JIANPEI_TELEGRAM_API_BASE", fake.base)
    assert await actions.links.telegram_bot() == "jianpei_test_bot"
    assert [call.method for call in fake.calls] == ["getMe"]
    monkeypatch.delenv("JIANPEI_TELEGRAM_TOKEN")
    monkeypatch.setattr(actions.links, "_from_environment", None)
    assert await actions.links.telegram_bot() is None
