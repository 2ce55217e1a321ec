"""The runtime's promises: trackers survive a restart, sessions expire, one turn at a time per
sender even across two assistants on one database, hand-off is stored."""

from __future__ import annotations

import asyncio
import json

import httpx
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from storage.models import Conversation, ConversationEvent, Handoff, HandoffMessage
from tests.assistant.conftest import Chat
from tests.conftest import FakeClock


def new_app_client(backend: Backend, interpreter: Interpreter) -> httpx.AsyncClient:
    """A second, freshly started assistant on the same database (a restart, or another process)."""
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test")


async def test_conversation_survives_a_restart(
    chat: Chat, backend: Backend, interpreter: Interpreter
) -> None:
    await chat.say("/register")
    assert "身份证号" in await chat.text("白山松")
    async with new_app_client(backend, interpreter) as restarted:
        again = Chat(restarted, chat.sender)
        assert "身份证号应为18位" in await again.text("12345")
        assert "手机号" in await again.text("220204198203150521")


async def test_an_idle_session_expires_and_forgets_the_open_form(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await chat.say("/register")
    await chat.say("白山松")
    clock.advance(minutes=61)
    answer = await chat.text("220204198203150521")
    assert "手机号" not in answer, "a new session starts with no form open"
    async with backend.sessions() as session:
        kinds = list(
            await session.scalars(
                select(ConversationEvent.type_name).where(ConversationEvent.sender_id == chat.conversation_id)
            )
        )
        conversation = await session.get(Conversation, chat.conversation_id)
    assert kinds.count("session_started") == 2
    assert conversation is not None and conversation.session_no == 2
    async with backend.sessions() as session:
        replayed = list(
            await session.scalars(
                select(ConversationEvent.type_name)
                .where(ConversationEvent.sender_id == chat.conversation_id, ConversationEvent.session_no == 2)
                .order_by(ConversationEvent.id)
            )
        )
    assert replayed[:2] == ["action", "session_started"], "only the new session is replayed"


async def test_turns_of_one_sender_never_interleave(
    chat: Chat, backend: Backend, interpreter: Interpreter
) -> None:
    """Twenty messages at once through two assistants: every turn's events stay together."""
    async with new_app_client(backend, interpreter) as other:
        clients = [chat.http, other]
        payloads = ["/contact_support", "/account_help", "/training_cycle", "/learning_rules"]
        await asyncio.gather(
            *(Chat(clients[i % 2], chat.sender).say(payloads[i % 4] + f'{{"n":"{i}"}}') for i in range(20))
        )
    async with backend.sessions() as session:
        rows = await session.scalars(
            select(ConversationEvent.data)
            .where(ConversationEvent.sender_id == chat.conversation_id)
            .order_by(ConversationEvent.id)
        )
        events = [json.loads(row) for row in rows]
    turns: list[list[str]] = []
    for event in events:
        if event["event"] == "user":
            turns.append([])
        elif turns and event["event"] == "action":
            turns[-1].append(event["name"])
    assert len(turns) == 20
    assert all(len(actions) == 2 and actions[-1] == "action_listen" for actions in turns), turns


async def test_hand_off_is_stored_for_staff(chat: Chat, backend: Backend) -> None:
    said = await chat.text("人工")
    assert "转人工客服" in said and "您排在第一位" in said
    async with backend.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
    assert conversation is not None and conversation.status == "waiting"
    assert conversation.handoff_requested_at is not None
    assert "请求已记下" in await chat.text("我要注册")  # for staff, not the NLU: no registration starts
    await chat.say("/menu")
    async with backend.sessions() as session:
        conversation = await session.get(Conversation, chat.conversation_id)
        kinds = list(
            await session.scalars(
                select(ConversationEvent.type_name)
                .where(ConversationEvent.sender_id == chat.conversation_id)
                .order_by(ConversationEvent.id)
            )
        )
        handoff = await session.scalar(select(Handoff).where(Handoff.sender_id == chat.conversation_id))
        relayed = list(await session.scalars(select(HandoffMessage.text)))
    assert conversation is not None and conversation.status == "bot"
    assert handoff is not None and handoff.status == "closed"
    assert relayed == ["我要注册"]
    # the history says it the way Rasa does: the hand-off paused the chat, the menu resumed it
    assert [k for k in kinds if k in ("pause", "resume")] == ["pause", "resume"]
