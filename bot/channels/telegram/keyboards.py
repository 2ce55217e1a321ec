"""Which inline keyboard of a chat may still be pressed. Buttons stay under a message for ever in
Telegram; a trainee scrolling up could tap 确认提交 of a step long past. So each chat has at most one
live keyboard, the newest the bot sent: sending a newer one, the trainee pressing a button or
writing anything takes the buttons off the older message (editMessageReplyMarkup), and a tap that
still reaches us from a message that is not the live one is refused in Chinese.

The live message is kept in the database, as a tap may reach any worker. A chat whose keyboard is
not known (NULL: sent before this was kept) takes every tap, as it always did."""

from __future__ import annotations

import contextlib

import structlog
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import EditMessageReplyMarkup
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.telegram.sender import Sender, chat_row
from storage.models import TelegramChat

log = structlog.get_logger(__name__)

NONE_LIVE = 0  # the chat has no keyboard that may be pressed


class Keyboards:
    def __init__(self, sessions: async_sessionmaker[AsyncSession], sender: Sender) -> None:
        self.sessions = sessions
        self.sender = sender

    async def shown(self, chat_id: str, message_id: int) -> None:
        """`message_id` now carries the chat's live keyboard; the one before loses its buttons."""
        await self._replace(chat_id, message_id)

    async def retire(self, chat_id: str) -> None:
        """The trainee moved on (pressed a button, wrote): no keyboard of the chat is live."""
        await self._replace(chat_id, NONE_LIVE)

    async def is_live(self, chat_id: str, message_id: int) -> bool:
        async with self.sessions() as session:
            live = await session.scalar(
                select(TelegramChat.keyboard_message_id).where(TelegramChat.chat_id == chat_id)
            )
        return live is None or live == message_id

    async def _replace(self, chat_id: str, message_id: int) -> None:
        async with self.sessions() as session:
            before = await session.scalar(
                select(TelegramChat.keyboard_message_id).where(TelegramChat.chat_id == chat_id)
            )
        if before == message_id:
            return
        await chat_row(self.sessions, chat_id, keyboard_message_id=message_id)
        if before:
            # Taking the buttons off is for the eye: a tap on them is refused anyway. So it posts no
            # message, waits for no slot of the chat's one-a-second pace (that would delay the reply
            # behind it) and is not retried; too old to edit (48 hours), already edited, a refused
            # or blocked chat: the buttons simply stay.
            with contextlib.suppress(TelegramAPIError):
                await self.sender.bot(
                    EditMessageReplyMarkup(chat_id=chat_id, message_id=before, reply_markup=None)
                )
