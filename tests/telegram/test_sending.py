"""One paced sender: with the fake server enforcing Telegram's limits (30 messages/s overall, one a
second per chat) nothing is refused; a 429 is waited out and the message arrives once; a chat that
blocked the bot (403) gets nothing more until its user writes again."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator

import pytest
from aiogram.methods import SendMessage
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.channels.telegram.channel import make_bot
from bot.channels.telegram.sender import ChatBlocked, Sender, SendUncertain
from nlu import Interpreter
from services.context import Backend
from storage.db import create_engine, session_factory
from storage.models import TelegramChat
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser, telegram_settings
from tests.telegram.fake_api import PACE_SLACK, TOKEN, FakeTelegram


@pytest.fixture
async def paced_app(backend: Backend, interpreter: Interpreter, fake: FakeTelegram) -> FastAPI:
    """Telegram's own pace: 30 messages a second, one a second in a chat."""
    app = create_assistant_app(
        backend, telegram_settings(fake, telegram_rate=30.0, telegram_chat_rate=1.0), interpreter
    )
    yield app  # type: ignore[misc]
    await app.state.telegram.stop()


async def test_at_telegrams_pace_nothing_is_refused(paced_app: FastAPI, fake: FakeTelegram) -> None:
    fake.enforce_pace = True
    outbound = paced_app.state.outbound
    chats = [f"telegram:{9000 + n}" for n in range(45)]
    burst = [outbound.send(chat, [{"text": "课程已学完"}]) for chat in chats]
    burst.append(outbound.send("telegram:8000", [{"text": f"第{n}条"} for n in range(3)]))
    await asyncio.gather(*burst)
    assert fake.refused_for_pace == 0
    assert len(fake.sent()) == 48
    one_chat = [c.at for c in fake.sent(8000)]
    assert all(b - a >= 1 - PACE_SLACK for a, b in itertools.pairwise(one_chat))


async def test_a_429_is_waited_out_and_the_message_arrives_once(
    paced_app: FastAPI, fake: FakeTelegram
) -> None:
    fake.fail("sendMessage", 429, retry_after=1)
    await paced_app.state.outbound.send("telegram:7001", [{"text": "您的电子证书已办好"}])
    refused, delivered = fake.sent(7001, ok_only=False)
    assert refused.status == 429 and delivered.status == 200
    assert fake.texts(7001) == ["您的电子证书已办好"]
    assert delivered.at - refused.at >= 1 - PACE_SLACK


async def test_a_chat_that_blocked_the_bot_gets_nothing_more_until_it_writes_again(
    paced_app: FastAPI, fake: FakeTelegram, backend: Backend
) -> None:
    outbound = paced_app.state.outbound
    fake.fail("sendMessage", 403)
    with pytest.raises(ChatBlocked):
        await outbound.send("telegram:7002", [{"text": "第一条"}, {"text": "第二条"}])
    with pytest.raises(ChatBlocked):
        await outbound.send("telegram:7002", [{"text": "提醒"}])
    assert len(fake.sent(7002, ok_only=False)) == 1
    async with backend.sessions() as session:
        assert await session.scalar(select(TelegramChat.chat_id).where(TelegramChat.blocked_at.is_not(None)))

    import httpx

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=paced_app), base_url="http://jianpei.test")
    user = TelegramUser(http, fake, paced_app.state.telegram, 7002)
    assert "建培助手" in await user.say("/start")


async def test_a_send_whose_answer_never_comes_is_not_sent_twice(
    fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    """Telegram took the notice but its answer was lost: a second copy would be a duplicate notice."""
    sender = Sender(make_bot(TOKEN, fake.base), backend.sessions, clock, timeout=1)
    try:
        fake.fail("sendMessage", 0)
        with pytest.raises(SendUncertain):
            await sender.call("7003", SendMessage(chat_id="7003", text="您的电子证书已办好"))
        assert len(fake.sent(7003, ok_only=False)) == 1

        fake.fail("sendMessage", 500)  # Telegram says it failed: the message is surely not there
        await sender.call("7003", SendMessage(chat_id="7003", text="课程已学完"))
        assert [c.status for c in fake.sent(7003, ok_only=False)[1:]] == [500, 200]
        assert fake.texts(7003) == ["课程已学完"]
    finally:
        await sender.bot.session.close()


@pytest.fixture
async def two_senders(fake: FakeTelegram, backend: Backend, clock: FakeClock) -> AsyncIterator[list[Sender]]:
    """Two sending processes on one database (a web worker and `jianpei scheduler`): each its own
    bot session and its own database engine, at Telegram's own pace."""
    other_engine = create_engine(backend.engine.url.render_as_string(hide_password=False))
    senders = [
        Sender(make_bot(TOKEN, fake.base), sessions, clock, per_second=30.0, per_chat_per_second=1.0)
        for sessions in (backend.sessions, session_factory(other_engine))
    ]
    yield senders
    for sender in senders:
        await sender.bot.session.close()
    await other_engine.dispose()


def _message(chat: str, text: str = "课程已学完") -> SendMessage:
    return SendMessage(chat_id=chat, text=text)


async def test_two_processes_together_keep_telegrams_pace(
    two_senders: list[Sender], fake: FakeTelegram
) -> None:
    """Each alone at 30 a second would send 60 a second together; one chat written to by both
    would get two messages at once."""
    fake.enforce_pace = True
    chats = [str(9100 + n) for n in range(50)]
    sends = [two_senders[n % 2].call(chat, _message(chat)) for n, chat in enumerate(chats)]
    sends += [sender.call("8100", _message("8100", f"第{n}条")) for n, sender in enumerate(two_senders * 2)]
    await asyncio.gather(*sends)
    assert fake.refused_for_pace == 0
    assert len(fake.sent()) == 54
    one_chat = [c.at for c in fake.sent(8100)]
    assert all(b - a >= 1 - PACE_SLACK for a, b in itertools.pairwise(one_chat))


async def test_a_429_in_one_process_holds_back_the_other(
    two_senders: list[Sender], fake: FakeTelegram
) -> None:
    """Telegram tells one process to wait, and the other starts on thirty chats: the moment the
    pause is on the database (a few milliseconds), the other sends nothing more until it ends."""
    one, other = two_senders
    fake.fail("sendMessage", 429, retry_after=1)
    chats = [str(8210 + n) for n in range(30)]
    refused = asyncio.create_task(one.call("8200", _message("8200")))
    await fake.wait_for(lambda: any(call.status == 429 for call in fake.calls))
    await asyncio.gather(refused, *(other.call(chat, _message(chat)) for chat in chats))
    (told_to_wait,) = [call for call in fake.calls if call.status == 429]
    during_pause = [
        call
        for chat in chats
        for call in fake.sent(chat)
        if told_to_wait.at + 0.1 < call.at < told_to_wait.at + 1 - PACE_SLACK
    ]
    assert during_pause == []
    assert fake.texts(8200) == ["课程已学完"], "the refused message still arrives, once"
    assert all(fake.texts(chat) == ["课程已学完"] for chat in chats)


async def test_a_chat_blocked_in_one_process_gets_nothing_from_the_other(
    two_senders: list[Sender], fake: FakeTelegram
) -> None:
    one, other = two_senders
    fake.fail("sendMessage", 403)
    with pytest.raises(ChatBlocked):
        await one.call("8300", _message("8300", "提醒"))
    with pytest.raises(ChatBlocked):
        await other.call("8300", _message("8300", "通知"))
    assert len(fake.sent(8300, ok_only=False)) == 1, "the other process did not try"

    await other.unblock("8300")  # the trainee wrote again, and the other process took his message
    await one.call("8300", _message("8300", "欢迎回来"))
    assert fake.texts(8300) == ["欢迎回来"]
