"""The durable inbox of Telegram updates. An update is written here before the webhook answers 200
(or before getUpdates confirms it), keyed by `update_id`: a redelivered update finds its row and is
not handled again, and an update a crash interrupted is taken up again once its claim lapses.

A worker claims a row for `lease` seconds; a turn and its sends take far less. Telegram's ids restart
at random after a week of silence, so rows are matched by equality only, never by order."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer
from storage.models import TelegramUpdate

NEW = "new"
ANSWERED = "answered"
DONE = "done"


@dataclass(frozen=True)
class Entry:
    update_id: int
    chat_id: str | None
    data: dict[str, Any]
    state: str
    answers: list[Answer]
    sent: int


class Inbox:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime], lease: float
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.lease = timedelta(seconds=lease)

    async def add(self, update_id: int, chat_id: str | None, data: dict[str, Any]) -> bool:
        """Store a new update, claimed by the caller; False when it is already here (a redelivery)."""
        now = self.clock()
        row = TelegramUpdate(
            update_id=update_id,
            chat_id=chat_id,
            data=json.dumps(data, ensure_ascii=False),
            state=NEW,
            sent=0,
            claimed_until=now + self.lease,
            received_at=now,
        )
        try:
            async with self.sessions() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return False
        return True

    async def claim(self, update_id: int) -> bool:
        """Take up an unfinished update whose claim lapsed; False when someone else holds it."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(TelegramUpdate)
                .where(
                    TelegramUpdate.update_id == update_id,
                    TelegramUpdate.state != DONE,
                    or_(TelegramUpdate.claimed_until.is_(None), TelegramUpdate.claimed_until < now),
                )
                .values(claimed_until=now + self.lease)
            )
        return bool(getattr(result, "rowcount", 0))

    async def lapsed(self, limit: int = 100) -> list[int]:
        """Unfinished updates nobody holds any more (their worker died), oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(TelegramUpdate.update_id)
                .where(TelegramUpdate.state != DONE, TelegramUpdate.claimed_until < self.clock())
                .order_by(TelegramUpdate.received_at)
                .limit(limit)
            )
            return list(rows)

    async def get(self, update_id: int) -> Entry:
        async with self.sessions() as session:
            row = await session.get(TelegramUpdate, update_id)
            assert row is not None
            return Entry(
                row.update_id,
                row.chat_id,
                json.loads(row.data),
                row.state,
                json.loads(row.answers) if row.answers else [],
                row.sent,
            )

    async def answered(self, update_id: int, answers: list[Answer]) -> None:
        """The turn ran: its answers are kept, so a resumed update sends them without a second turn."""
        await self._set(update_id, state=ANSWERED, answers=json.dumps(answers, ensure_ascii=False))

    async def progress(self, update_id: int, sent: int) -> None:
        await self._set(update_id, sent=sent)

    async def done(self, update_id: int) -> None:
        await self._set(update_id, state=DONE, claimed_until=None)

    async def prune(self, keep: timedelta) -> None:
        """Forget finished updates older than `keep`: redeliveries come within hours, and an id
        Telegram starts over with must not meet an old row."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(TelegramUpdate).where(
                    TelegramUpdate.state == DONE, TelegramUpdate.received_at < self.clock() - keep
                )
            )

    async def _set(self, update_id: int, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(TelegramUpdate).where(TelegramUpdate.update_id == update_id).values(**values)
            )
