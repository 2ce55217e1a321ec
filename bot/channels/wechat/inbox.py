"""The durable inbox of WeChat messages. WeChat waits 5 seconds for an answer and then pushes the
same message again, three times in all: the message is written here before the webhook answers,
keyed by `MsgId` (an event, which has none, by sender and CreateTime), so a retry finds its row and
is not handled again, and a message a crash interrupted is taken up once its claim lapses."""

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
from storage.models import WechatMessage

NEW = "new"
ANSWERED = "answered"
DONE = "done"


@dataclass(frozen=True)
class Entry:
    key: str
    openid: str
    xml: str
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

    async def add(self, key: str, openid: str, xml: str) -> bool:
        """Store a new message, claimed by the caller; False when it is already here (a retry)."""
        now = self.clock()
        row = WechatMessage(
            key=key,
            openid=openid,
            xml=xml,
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

    async def claim(self, key: str) -> bool:
        """Take up an unfinished message whose claim lapsed; False when someone else holds it."""
        now = self.clock()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(WechatMessage)
                .where(
                    WechatMessage.key == key,
                    WechatMessage.state != DONE,
                    or_(WechatMessage.claimed_until.is_(None), WechatMessage.claimed_until < now),
                )
                .values(claimed_until=now + self.lease)
            )
        return bool(getattr(result, "rowcount", 0))

    async def lapsed(self, limit: int = 100) -> list[str]:
        """Unfinished messages nobody holds any more (their worker died), oldest first."""
        async with self.sessions() as session:
            rows = await session.scalars(
                select(WechatMessage.key)
                .where(WechatMessage.state != DONE, WechatMessage.claimed_until < self.clock())
                .order_by(WechatMessage.received_at)
                .limit(limit)
            )
            return list(rows)

    async def get(self, key: str) -> Entry:
        async with self.sessions() as session:
            row = await session.get(WechatMessage, key)
            assert row is not None
            answers = json.loads(row.answers) if row.answers else []
            return Entry(row.key, row.openid, row.xml, row.state, answers, row.sent)

    async def answered(self, key: str, answers: list[Answer]) -> None:
        """The turn ran: its answers are kept, so a resumed message sends them without a second turn."""
        await self._set(key, state=ANSWERED, answers=json.dumps(answers, ensure_ascii=False))

    async def progress(self, key: str, sent: int) -> None:
        await self._set(key, sent=sent)

    async def done(self, key: str) -> None:
        await self._set(key, state=DONE, claimed_until=None)

    async def prune(self, keep: timedelta) -> None:
        """Forget finished messages older than `keep`: WeChat's retries come within seconds."""
        async with self.sessions() as session, session.begin():
            await session.execute(
                delete(WechatMessage).where(
                    WechatMessage.state == DONE, WechatMessage.received_at < self.clock() - keep
                )
            )

    async def _set(self, key: str, **values: Any) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(update(WechatMessage).where(WechatMessage.key == key).values(**values))
