"""Telegram's pace kept over every process on one database: about 30 messages a second over all chats
and one a second in each chat, however many workers and schedulers send.

A send claims its moment just before it goes, in one short transaction: the overall slot
(`send_paces`, row "telegram") if it is free now, and the chat (`telegram_chats.send_after`) if it
is free and not blocked. A slot reserved ahead for later would not do: a process that wakes late
sends its reserved slot next to another's on-time one, and Telegram counts the burst (that is how
WeChat's and the SMS gateway's softer rates are kept, bot/channels/pace.py). Claiming at the moment
of sending keeps sends apart as Telegram sees them.

A send that wakes a little late keeps the schedule (the next slot is an interval after this one's
due time, not after the late moment), so the pace holds its full rate; lateness beyond LATE_KEPT
moves the schedule on, so thirty sends in a row never fit into less than 29 intervals less
LATE_KEPT."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from sqlalchemy import case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import insert_unless_there
from storage.models import SendPace, TelegramChat

PACE = "telegram"
# Seconds of a send's lateness the schedule makes up for: the usual late wake-up of a few
# milliseconds, while leaving Telegram's one-second window room for the request's own jitter.
LATE_KEPT = 0.005


class ChatBlocked(Exception):
    """The chat refused the bot (403); nothing more is sent to it."""


@dataclass(frozen=True)
class Claim:
    """What a try found: granted (the message goes now), or the Unix time to try again and whether
    the chat rather than the overall slot was taken."""

    retry_at: float = 0.0
    chat_busy: bool = False

    @property
    def granted(self) -> bool:
        return self.retry_at == 0.0


class TelegramPace:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], per_second: float, per_chat_per_second: float
    ) -> None:
        self.sessions = sessions
        self.interval = 1.0 / per_second
        self.chat_interval = 1.0 / per_chat_per_second
        self._next_any = 0.0  # Unix time of the next overall slot, as last seen in the database
        self._claiming = asyncio.Lock()  # this process tries for one slot at a time

    async def claim(self, chat_id: str) -> None:
        """Wait until a message may go into `chat_id` now; raises ChatBlocked for a refusing chat."""
        while True:
            async with self._claiming:
                await _sleep_until(self._next_any)
                found = await self._try(chat_id, time.time())
                if found.granted:
                    return
                if not found.chat_busy:
                    self._next_any = found.retry_at
                    continue
            await _sleep_until(found.retry_at)  # the chat is busy: others go meanwhile

    async def pause(self, seconds: float) -> None:
        """Telegram asked every send to wait (429 retry_after): no process sends before then."""
        until = time.time() + seconds
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(SendPace).where(SendPace.name == PACE, SendPace.next_at < until).values(next_at=until)
            )
        self._next_any = max(self._next_any, until)

    async def _try(self, chat_id: str, now: float) -> Claim:
        slot = (
            update(SendPace)
            .where(SendPace.name == PACE, SendPace.next_at <= now)
            .values(
                next_at=case((SendPace.next_at > now - LATE_KEPT, SendPace.next_at), else_=now - LATE_KEPT)
                + self.interval
            )
            .returning(SendPace.next_at)
        )
        chat = (
            update(TelegramChat)
            .where(
                TelegramChat.chat_id == chat_id,
                TelegramChat.blocked_at.is_(None),
                or_(TelegramChat.send_after.is_(None), TelegramChat.send_after <= now),
            )
            .values(send_after=now + self.chat_interval)
            .returning(TelegramChat.chat_id)
        )
        async with self.sessions() as session:
            next_any = await session.scalar(slot)
            if next_any is None:
                await session.rollback()
                return Claim(retry_at=await self._next_slot(now))
            claimed = await session.scalar(chat)
            if claimed is None:  # a chat never written to: its row, claimed, unless another made it
                first = insert_unless_there(
                    session, TelegramChat, "chat_id", chat_id=chat_id, send_after=now + self.chat_interval
                )
                claimed = await session.scalar(first.returning(TelegramChat.chat_id))
            if claimed is not None:
                await session.commit()
                self._next_any = float(next_any)
                return Claim()
            await session.rollback()  # the slot stays free for a message to another chat
            row = (
                await session.execute(
                    select(TelegramChat.blocked_at, TelegramChat.send_after).where(
                        TelegramChat.chat_id == chat_id
                    )
                )
            ).one()
            await session.rollback()
        if row.blocked_at is not None:
            raise ChatBlocked(chat_id)
        return Claim(retry_at=float(row.send_after or now), chat_busy=True)

    async def _next_slot(self, now: float) -> float:
        """When the overall slot is taken: its time; on a database that never sent: made, free now."""
        async with self.sessions() as session, session.begin():
            next_at = await session.scalar(select(SendPace.next_at).where(SendPace.name == PACE))
            if next_at is not None:
                return float(next_at)
            await session.execute(insert_unless_there(session, SendPace, "name", name=PACE, next_at=now))
        return now


async def _sleep_until(at: float) -> None:
    delay = at - time.time()
    if delay > 0:
        await asyncio.sleep(delay)
