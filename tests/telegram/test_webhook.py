"""The webhook: only Telegram (the secret token) gets in; an update is handled once, however often it
is delivered, and an update a crash interrupted is finished after a restart, without a second turn."""

from __future__ import annotations

import asyncio
import json

from fastapi import FastAPI
from sqlalchemy import func, select

from bot.app import create_assistant_app
from nlu import Interpreter
from services.context import Backend
from storage.models import ConversationEvent, TelegramUpdate
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser, telegram_settings
from tests.telegram.fake_api import FakeTelegram


async def user_turns(backend: Backend, conversation: str) -> int:
    async with backend.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ConversationEvent)
            .where(ConversationEvent.sender_id == conversation, ConversationEvent.type_name == "user")
        )
    return int(count or 0)


async def inbox_size(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(TelegramUpdate)) or 0)


async def test_wrong_or_missing_secret_is_refused_and_nothing_is_handled(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend
) -> None:
    for secret in ("not-the-secret", None, ""):
        response = await tg_user.deliver(tg_user.updates.text("你好"), secret=secret)
        assert response.status_code == 401
    await tg_user.channel.idle()
    assert await inbox_size(backend) == 0
    assert fake.sent() == []
    assert await user_turns(backend, tg_user.conversation_id) == 0


async def test_an_update_delivered_three_times_is_one_turn(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend
) -> None:
    update = tg_user.updates.text("/start")
    answers = await asyncio.gather(*(tg_user.deliver(update) for _ in range(3)))
    assert [a.status_code for a in answers] == [200, 200, 200]
    await tg_user.channel.idle()
    assert await user_turns(backend, tg_user.conversation_id) == 1
    greetings = [t for t in fake.texts(tg_user.chat_id) if "建培助手" in t]
    assert len(greetings) == 1


async def test_an_update_cut_off_by_a_crash_is_finished_after_a_restart_without_a_second_turn(
    backend: Backend, interpreter: Interpreter, fake: FakeTelegram, clock: FakeClock
) -> None:
    first = create_assistant_app(backend, telegram_settings(fake), interpreter)
    user = _user(first, fake)
    fake.fail("sendMessage", 0)  # the reply hangs: the process dies before Telegram confirms it
    assert (await user.deliver(user.updates.text("/start"))).status_code == 200
    await fake.wait_for(lambda: any(c.method == "sendMessage" for c in fake.calls))
    await _crash(first)

    clock.advance(seconds=telegram_settings(fake).telegram_lease_seconds + 1)
    second = create_assistant_app(backend, telegram_settings(fake), interpreter)
    try:
        assert await second.state.telegram.resume() == 1
        await second.state.telegram.idle()
        assert await second.state.telegram.resume() == 0
    finally:
        await second.state.telegram.stop()
    assert await user_turns(backend, user.conversation_id) == 1
    assert len([t for t in fake.texts(user.chat_id) if "建培助手" in t]) == 1
    async with backend.sessions() as session:
        row = await session.scalar(select(TelegramUpdate))
    assert row is not None and row.state == "done" and json.loads(row.answers or "[]")


def _user(app: FastAPI, fake: FakeTelegram) -> TelegramUser:
    import httpx

    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test")
    return TelegramUser(http, fake, app.state.telegram, 5001)


async def _crash(app: FastAPI) -> None:
    """The process is gone: its work stops where it stands, nothing is finished or written."""
    for task in list(app.state.telegram._work):
        task.cancel()
    await asyncio.gather(*app.state.telegram._work, return_exceptions=True)
    await app.state.telegram.bot.session.close()
