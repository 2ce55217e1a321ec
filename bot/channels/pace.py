"""A platform's pace kept over every process on one database (WeChat's and the SMS gateway's own
rates): a send reserves the next free slot in `send_paces` with one conditional update, then waits
for it. Telegram's pace lives in its sender."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import case, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import insert_unless_there
from storage.models import SendPace


class SharedPace:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], name: str, per_second: float) -> None:
        self.sessions = sessions
        self.name = name
        self.interval = 1.0 / per_second

    async def reserve(self, count: int = 1) -> float:
        """Reserve `count` slots in a row; the Unix time from which the first may go."""
        span = count * self.interval
        now = time.time()
        later = case((SendPace.next_at > now, SendPace.next_at), else_=now) + span
        move = (
            update(SendPace)
            .where(SendPace.name == self.name)
            .values(next_at=later)
            .returning(SendPace.next_at)
        )
        async with self.sessions() as session, session.begin():
            ends = await session.scalar(move)
            if ends is None:  # the platform's first message on this database
                first = insert_unless_there(session, SendPace, "name", name=self.name, next_at=now)
                await session.execute(first)
                ends = await session.scalar(move)
        assert ends is not None
        return float(ends) - span

    async def wait(self, count: int = 1) -> None:
        """Until `count` messages may go now."""
        delay = await self.reserve(count) - time.time()
        if delay > 0:
            await asyncio.sleep(delay)
