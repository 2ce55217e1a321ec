"""Every call that puts something into a Telegram chat goes through one `Sender`, which keeps
Telegram's pace: about 30 messages a second over all chats and one a second in each chat, together
with every other process on the database (bot/channels/telegram/pace.py). aiogram has neither a
limiter nor retries, so they live here:

- 429 Too Many Requests: every send, in every process, waits `retry_after`, then the refused message
  goes again;
- 403 (the user blocked the bot, or it was removed): the chat is marked and no process sends it
  anything more until its user writes again;
- a 5xx (Telegram answered that it failed) or a connection that could not be made (the request never
  left) is retried once;
- a timeout, or a connection lost after the request went out, is not retried: the Bot API has no
  idempotency key, so the message may well have arrived, and a second copy of a notice ("您的电子证书
  已办好" twice) confuses more than a lost one, which the trainee can ask for again. Such a send is
  raised as `SendUncertain`, so no one sends it again another way; a reply in a turn counts as
  delivered, a notice is recorded as unknown."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import structlog
from aiogram import Bot
from aiogram.exceptions import (
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiohttp import ClientConnectorError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram.pace import ChatBlocked, TelegramPace
from storage.models import TelegramChat

log = structlog.get_logger(__name__)

T = TypeVar("T")
MAX_RETRY_AFTER_WAITS = 5  # a message Telegram keeps refusing is given up after so many waits


class SendUncertain(Exception):
    """No answer came for a send (timeout, connection lost midway): it may have arrived, so whoever
    sent it must not try another way (a notice by SMS as well) or it may arrive twice."""


class Sender:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
        *,
        per_second: float = 30.0,
        per_chat_per_second: float = 1.0,
        timeout: int | None = None,
    ) -> None:
        self.bot = bot
        self.sessions = sessions
        self.clock = clock
        self.timeout = timeout  # seconds a send may take; None: the bot session's own timeout
        self.pace = TelegramPace(sessions, per_second, per_chat_per_second)
        self._chat_interval = 1.0 / per_chat_per_second
        self._next_in_chat: dict[str, float] = {}  # loop time from which the chat may get the next
        self._chat_locks: dict[str, tuple[asyncio.Lock, int]] = {}  # and how many wait on it

    async def call(self, chat_id: str, method: TelegramMethod[T]) -> T:
        """Send `method` into `chat_id` at Telegram's pace; raises ChatBlocked for a refusing chat.
        Calls into one chat go one at a time; the next may start a chat interval after the previous
        one was answered, so Telegram sees them at least that far apart."""
        lock, users = self._chat_locks.get(chat_id) or (asyncio.Lock(), 0)
        self._chat_locks[chat_id] = (lock, users + 1)
        try:
            async with lock:
                return await self._paced(chat_id, method)
        finally:
            lock, users = self._chat_locks[chat_id]
            if users == 1:
                del self._chat_locks[chat_id]
            else:
                self._chat_locks[chat_id] = (lock, users - 1)

    async def _paced(self, chat_id: str, method: TelegramMethod[T]) -> T:
        loop = asyncio.get_running_loop()
        retried = False
        waits = 0
        while True:
            await _sleep_until(loop, self._next_in_chat.get(chat_id, 0.0))
            await self.pace.claim(chat_id)
            try:
                return await self.bot(method, request_timeout=self.timeout)
            except TelegramRetryAfter as error:
                waits += 1
                log.warning("telegram_retry_after", seconds=error.retry_after, waits=waits)
                if waits > MAX_RETRY_AFTER_WAITS:
                    raise
                await self.pace.pause(error.retry_after)
            except TelegramForbiddenError:
                await self.mark_blocked(chat_id)
                raise ChatBlocked(chat_id) from None
            except (TelegramNetworkError, TelegramServerError) as error:
                if not _surely_not_sent(error):
                    log.warning("telegram_send_uncertain", error=str(error)[:80], retried=retried)
                    raise SendUncertain(chat_id) from error
                if retried:
                    raise
                retried = True
                log.warning("telegram_send_retried", error=type(error).__name__)
            finally:
                self._next_in_chat[chat_id] = loop.time() + self._chat_interval
                if len(self._next_in_chat) > 10_000:  # forget chats whose turn has long passed
                    now = loop.time()
                    self._next_in_chat = {c: t for c, t in self._next_in_chat.items() if t > now}

    async def is_blocked(self, chat_id: str) -> bool:
        async with self.sessions() as session:
            blocked = await session.scalar(
                select(TelegramChat.blocked_at).where(TelegramChat.chat_id == chat_id)
            )
        return blocked is not None

    async def mark_blocked(self, chat_id: str) -> None:
        log.info("telegram_chat_blocked")
        await chat_row(self.sessions, chat_id, blocked_at=self.clock())

    async def unblock(self, chat_id: str) -> None:
        """The user wrote again: he unblocked the bot."""
        if await self.is_blocked(chat_id):
            await chat_row(self.sessions, chat_id, blocked_at=None)


def _surely_not_sent(error: TelegramNetworkError | TelegramServerError) -> bool:
    """Telegram answered with a failure, or the connection was never made: the message is not there.
    A timeout or a connection lost midway says nothing of whether it arrived."""
    return isinstance(error, TelegramServerError) or isinstance(error.__cause__, ClientConnectorError)


async def chat_row(sessions: async_sessionmaker[AsyncSession], chat_id: str, **values: Any) -> None:
    """Set `values` on the chat's row, made if it is not there yet (by this worker or another)."""
    for _attempt in range(2):
        async with sessions() as session, session.begin():
            changed = await session.execute(
                update(TelegramChat).where(TelegramChat.chat_id == chat_id).values(**values)
            )
            if getattr(changed, "rowcount", 0):
                return
        try:
            async with sessions() as session, session.begin():
                session.add(TelegramChat(chat_id=chat_id, **values))
            return
        except IntegrityError:
            continue  # another worker made the row a moment ago: update it


async def _sleep_until(loop: asyncio.AbstractEventLoop, at: float) -> None:
    delay = at - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)
