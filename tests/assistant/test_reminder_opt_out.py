"""退订提醒 and 恢复提醒, as every notice tells the trainee to reply, work in the chat: typed as written
(with spaces or a full stop too), for the person the chat is bound to only."""

from __future__ import annotations

import httpx
from sqlalchemy import select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models.notices import NoticeOptOut
from tests.assistant.conftest import Chat
from tests.assistant.stories import bind_demo_trainee
from tests.conftest import FakeClock


async def _opted_out(backend: Backend) -> list[int]:
    async with backend.sessions() as session:
        return list(await session.scalars(select(NoticeOptOut.person_id)))


async def test_a_bound_trainee_stops_and_resumes_reminders_by_typing(
    chat: Chat, chat_http: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(chat_http, backend, chat.conversation_id)
    assert "不再给您发学习提醒" in await chat.text("退订提醒")
    assert len(await _opted_out(backend)) == 1
    clock.advance(seconds=5)
    assert "提醒已恢复" in await chat.text("恢复 提醒。")
    assert await _opted_out(backend) == []


async def test_an_unbound_chat_is_asked_to_bind_and_nothing_changes(
    chat_http: httpx.AsyncClient, backend: Backend
) -> None:
    await load_demo_data(backend)
    stranger = Chat(chat_http, "web-stranger")
    assert "绑定" in await stranger.text("退订提醒")
    assert await _opted_out(backend) == []
