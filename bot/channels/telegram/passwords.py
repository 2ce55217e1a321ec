"""A password the trainee typed (改密码) is taken out of his Telegram chat. History keeps it starred,
but his own message would stay readable to anyone holding his phone; so once a turn has taken a
password from his message, the bot deletes that message (deleteMessage) and the reply says so.

Like taking buttons off an old keyboard it is best effort: no slot of the chat's pace (that would
delay the reply), no retry. A message Telegram will not delete (older than 48 hours, gone already)
stays, and the trainee is asked to delete it himself. WeChat lets no one delete a follower's message."""

from __future__ import annotations

import structlog
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import DeleteMessage

from bot.channels.base import Answer, conversation_id
from bot.channels.telegram.output import NAME
from bot.runtime.logid import chat_tag

log = structlog.get_logger(__name__)

DELETED = "为了安全，已删除您发的密码消息。"
NOT_DELETED = "为了安全，请长按您刚发的密码消息，把它删掉。"


async def take_back(bot: Bot, chat_id: str, message_id: int) -> Answer:
    """Delete the trainee's message `message_id`; what to tell him about it."""
    try:
        await bot(DeleteMessage(chat_id=chat_id, message_id=message_id))
    except TelegramAPIError as error:
        log.warning(
            "telegram_password_not_deleted",
            chat=chat_tag(conversation_id(NAME, chat_id)),
            error=type(error).__name__,
        )
        return {"text": NOT_DELETED}
    return {"text": DELETED}
