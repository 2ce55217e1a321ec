"""A conversation's status, written only here and only from the events of a turn: Rasa's `pause`
(an action handed the chat to staff) and `resume` (the chat is the assistant's again).

The runtime calls it inside the sender's lock, on the turn's own connection where there is one
(PostgreSQL), so a status never changes between a turn's reading and its writing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage.models import Conversation

WITH_STAFF = "waiting_for_staff"
WITH_ASSISTANT = "bot"
PAUSE = "pause"
RESUME = "resume"


class ConversationStatus:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    @asynccontextmanager
    async def _connection(self, given: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        if given is not None:
            yield given
            return
        async with self.engine.begin() as conn:
            yield conn

    async def with_staff(self, sender_id: str, conn: AsyncConnection | None) -> bool:
        async with self._connection(conn) as conn:
            status = await conn.scalar(
                select(Conversation.status).where(Conversation.sender_id == sender_id)
            )
        return status == WITH_STAFF

    async def record(
        self, sender_id: str, events: list[dict[str, Any]], *, now: datetime, conn: AsyncConnection | None
    ) -> None:
        """Apply the turn's pause and resume events, the last one winning. The conversation row
        exists: the turn's events were saved first."""
        kinds = [e.get("event") for e in events if e.get("event") in (PAUSE, RESUME)]
        if not kinds:
            return
        values: dict[str, Any] = {"status": WITH_STAFF if kinds[-1] == PAUSE else WITH_ASSISTANT}
        if kinds[-1] == PAUSE:
            values["handoff_requested_at"] = now
        async with self._connection(conn) as conn:
            await conn.execute(
                update(Conversation).where(Conversation.sender_id == sender_id).values(**values)
            )
