"""The REST and web chats' way in from outside a turn. A web page cannot be called, so what is sent
to it waits here, stored: an open page receives it at once over its stream, a closed one on its next
visit, in order and once (the page asks for what came after the last one it saw).

Streams of this process are woken the moment a message is stored; a message stored by another
process is picked up by the next check, at most `POLL_SECONDS` later."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer, conversation_id
from storage.models import ChatPush

POLL_SECONDS = 5.0
PAGE = 100


@dataclass(frozen=True)
class Pushed:
    id: int
    answer: Answer
    at: datetime


class Mailbox:
    """The output of the REST channel (and of the web chat, which speaks through it)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        name: str = "rest",
    ) -> None:
        self.name = name
        self.sessions = sessions
        self.clock = clock
        self._listeners: dict[str, set[asyncio.Event]] = {}

    async def send(self, chat_id: str, answers: list[Answer]) -> list[str]:
        conversation = conversation_id(self.name, chat_id)
        now = self.clock()
        async with self.sessions() as session, session.begin():
            stored = await session.execute(
                insert(ChatPush).returning(ChatPush.id, sort_by_parameter_order=True),
                [
                    {"sender_id": conversation, "data": json.dumps(a, ensure_ascii=False), "created_at": now}
                    for a in answers
                ],
            )
            ids = [str(push_id) for push_id in stored.scalars()]
        for listener in self._listeners.get(conversation, ()):
            listener.set()
        return ids

    async def since(self, conversation: str, after: int = 0) -> list[Pushed]:
        """Messages to `conversation` stored after the one numbered `after`, oldest first."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(ChatPush.id, ChatPush.data, ChatPush.created_at)
                .where(ChatPush.sender_id == conversation, ChatPush.id > after)
                .order_by(ChatPush.id)
                .limit(PAGE)
            )
            return [Pushed(row.id, json.loads(row.data), row.created_at) for row in rows]

    async def latest(self, conversation: str, limit: int) -> list[Pushed]:
        """The newest `limit` messages, oldest first (what a reloaded page shows)."""
        async with self.sessions() as session:
            rows = await session.execute(
                select(ChatPush.id, ChatPush.data, ChatPush.created_at)
                .where(ChatPush.sender_id == conversation)
                .order_by(ChatPush.id.desc())
                .limit(limit)
            )
            return [Pushed(row.id, json.loads(row.data), row.created_at) for row in reversed(rows.all())]

    async def wait(self, conversation: str, after: int) -> list[Pushed]:
        """What came after `after`, waiting up to `POLL_SECONDS` for something to come."""
        listener = asyncio.Event()
        self._listeners.setdefault(conversation, set()).add(listener)
        try:
            found = await self.since(conversation, after)
            if found:
                return found
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listener.wait(), POLL_SECONDS)
            return await self.since(conversation, after)
        finally:
            waiting = self._listeners.get(conversation, set())
            waiting.discard(listener)
            if not waiting:
                self._listeners.pop(conversation, None)


def stream_event(pushed: Pushed) -> str:
    """One server-sent event; its id is what the page sends back to resume after it."""
    body: dict[str, Any] = {"id": pushed.id, **pushed.answer}
    return f"id: {pushed.id}\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"
