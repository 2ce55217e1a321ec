"""The Telegram channel: an update in (webhook or long polling) -> the durable inbox -> one turn of
the assistant for `telegram:<chat_id>` -> its answers out through the paced sender.

aiogram is the transport only: it parses updates and makes the Bot API calls. The tracker is the
state (no aiogram FSM, no Redis) and turns are serialised by the runtime's own per-chat lock."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

import httpx
import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramConflictError
from aiogram.methods import AnswerCallbackQuery, DeleteWebhook, GetUpdates, SetMyCommands, SetWebhook
from aiogram.types import BotCommand, Document, Message, PhotoSize, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer, Left, conversation_id
from bot.channels.inbox import Handler, Inbox, InboxWorker, Table
from bot.channels.telegram.keyboards import Keyboards
from bot.channels.telegram.output import NAME, ButtonKeys, TelegramOutput
from bot.channels.telegram.passwords import take_back
from bot.channels.telegram.sender import ChatBlocked, Sender, SendUncertain
from bot.runtime.logid import chat_tag
from storage.models import TelegramUpdate

log = structlog.get_logger(__name__)

FILE_LIMIT = 20 * 1024 * 1024  # the most a bot may download from Telegram
POLL_SECONDS = 25
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
COMMANDS = {
    "start": ("/greet", "开始"),
    "menu": ("/menu", "主菜单"),
    "help": ("/faq_menu", "常见问题"),
    "human": ("/human_handoff", "转人工客服"),
}
TOO_BIG = "照片太大了（超过20MB），请压缩后再发，或直接拍一张发过来。"
NOT_IMAGE = "这个文件不是照片。请发一张JPG或PNG格式的照片。"
NOT_UNDERSTOOD = "我只看得懂文字、按钮和照片。请打字或点按钮告诉我要办什么，发送 /menu 看看我能做什么。"
REDEEM = "/redeem_chat_link"
START_PAYLOAD = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what a t.me/<bot>?start= link can carry
INBOX = Table(TelegramUpdate, key="update_id", chat="chat_id", body="data")
OLD_BUTTON = "这个按钮已经过期了，请发送 /menu 重新选择。"


def make_bot(token: str, api_base: str | None, timeout: float = 30) -> Bot:
    """An aiogram Bot speaking to Telegram, or to `api_base` (a local Bot API server, a test double)."""
    api = TelegramAPIServer.from_base(api_base) if api_base else None
    session = AiohttpSession(api=api, timeout=timeout) if api else AiohttpSession(timeout=timeout)
    return Bot(token, session=session)


class StaffRoom(Protocol):
    """The staff supergroup (bot/handoff's forum topics): its messages go there, not to the assistant."""

    chat_id: str

    async def take(self, message: Message) -> None: ...


class Leader(Protocol):
    """A lock only one process holds at a time (bot/scheduler's Leadership, under a key of its own)."""

    async def acquire(self) -> bool: ...

    async def release(self) -> None: ...


class TelegramChannel(InboxWorker[int]):
    kind = "telegram_update"
    staff_room: StaffRoom | None = None
    left: Left | None = None

    def __init__(
        self,
        bot: Bot,
        handle: Handler,
        inbox: Inbox[int],
        sender: Sender,
        output: TelegramOutput,
    ) -> None:
        super().__init__(NAME, inbox, handle)
        self.bot = bot
        self.sender = sender
        self.output = output

    # -- in -----------------------------------------------------------------------------------------

    async def accept(self, data: dict[str, Any]) -> bool:
        """Write the update to the inbox and start on it; False for an update already taken in."""
        return await self.take(int(data["update_id"]), _chat_of(data), json.dumps(data, ensure_ascii=False))

    async def answers_to(self, body: str) -> list[Answer]:
        return await self._answers(json.loads(body))

    async def deliver_to(self, chat: str, answer: Answer) -> bool:
        try:
            await self.output.deliver(chat, answer)
        except ChatBlocked:
            return False
        except SendUncertain:
            pass  # it most likely arrived: sending the rest keeps the reply whole
        except TelegramAPIError as error:  # one answer Telegram refuses does not stop the rest
            log.error(
                "telegram_send_failed", chat=chat_tag(conversation_id(NAME, chat)), error=type(error).__name__
            )
        return True

    async def _answers(self, data: dict[str, Any]) -> list[Answer]:
        update = Update.model_validate(data, context={"bot": self.bot})
        if update.my_chat_member is not None:
            if update.my_chat_member.new_chat_member.status == "kicked":
                chat_id = str(update.my_chat_member.chat.id)
                await self.sender.mark_blocked(chat_id)
                if self.left is not None:
                    await self.left(conversation_id(NAME, chat_id))
            return []
        if update.callback_query is not None:
            query = update.callback_query
            if query.message is None:
                await self._stop_spinner(query.id)
                return []
            chat_id = str(query.message.chat.id)
            payload = await self.output.keys.payload(query.data or "")
            if payload is None or not await self.output.keyboards.is_live(chat_id, query.message.message_id):
                await self._stop_spinner(query.id, OLD_BUTTON)
                return [{"text": OLD_BUTTON}]
            await self._stop_spinner(query.id)
            await self.output.keyboards.retire(chat_id)  # pressed: its buttons go
            return await self.turn(chat_id, payload, {})
        if update.message is None:
            return []
        message = update.message
        chat_id = str(message.chat.id)
        if self.staff_room is not None and chat_id == self.staff_room.chat_id:
            await self.staff_room.take(message)
            return []
        await self.sender.unblock(chat_id)
        await self.output.keyboards.retire(chat_id)  # the trainee wrote instead of pressing
        if message.text is not None:
            said = self.message(chat_id, _command(message.text), {})
            answers = await self.turn_of(said)
            if said.typed_password:
                answers.append(await take_back(self.bot, chat_id, message.message_id))
            return answers
        picture = _picture(message)
        if picture is None:
            return [{"text": NOT_IMAGE if message.document is not None else NOT_UNDERSTOOD}]
        file_id, size, filename = picture
        if size is not None and size > FILE_LIMIT:
            return [{"text": TOO_BIG}]
        try:
            content = await self._download(file_id)
        except TelegramAPIError as error:  # Telegram refuses files over 20 MB, whatever they said
            log.warning("telegram_download_failed", error=type(error).__name__)
            content = None
        if content is None:
            return [{"text": TOO_BIG}]
        attachment = {"filename": filename, "content_base64": base64.b64encode(content).decode()}
        return await self.turn(chat_id, message.caption or "", {"attachment": attachment})

    async def _stop_spinner(self, query_id: str, text: str | None = None) -> None:
        """Every tap is answered, so its spinner stops; `text` shows as a short notice over the chat."""
        with contextlib.suppress(TelegramAPIError):  # a query too old to answer is harmless
            await self.bot(AnswerCallbackQuery(callback_query_id=query_id, text=text))

    async def _download(self, file_id: str) -> bytes | None:
        file = await self.bot.get_file(file_id)
        if file.file_path is None or (file.file_size or 0) > FILE_LIMIT:
            return None
        got = await self.bot.download_file(file.file_path)
        return got.read() if got is not None else None

    async def username(self) -> str | None:
        """The bot's @username, for t.me links that open this chat (Telegram's getMe, asked once)."""
        return (await self.bot.me()).username

    # -- running ------------------------------------------------------------------------------------

    async def start(self, *, polling: bool, sweep_seconds: float, leader: Leader | None = None) -> None:
        """Take up what a previous run left, keep doing so every `sweep_seconds`; poll if told to
        (with a `leader` lock, only while this process holds it)."""
        await self.resume()
        self.start_sweeping(sweep_seconds)
        if polling:
            self._loops.append(asyncio.create_task(self.poll(leader)))

    async def poll(self, leader: Leader | None = None, standby_seconds: float = 5) -> None:
        """Long polling: each update is in the inbox before the next getUpdates confirms it.

        Telegram serves getUpdates to one caller per token (a second gets 409 Conflict). With a
        `leader` lock shared by the processes, only its holder polls; the others ask for the lock
        every `standby_seconds` and the first to get it takes over when the holder dies."""
        try:
            await self._poll(leader, standby_seconds)
        finally:
            if leader is not None:
                await leader.release()

    async def _poll(self, leader: Leader | None, standby_seconds: float) -> None:
        offset: int | None = None
        leading = False
        while True:
            if leader is not None and not await leader.acquire():
                leading = False
                await asyncio.sleep(standby_seconds)
                continue
            try:
                if not leading:
                    await self.bot(DeleteWebhook(drop_pending_updates=False))
                    leading, offset = True, None
                updates = await self.bot(
                    GetUpdates(offset=offset, timeout=POLL_SECONDS, allowed_updates=ALLOWED_UPDATES),
                    request_timeout=POLL_SECONDS + 10,
                )
            except TelegramConflictError:
                log.error("telegram_poll_conflict")  # another poller or a webhook holds the token
                await asyncio.sleep(POLL_SECONDS)
                continue
            except TelegramAPIError as error:
                log.warning("telegram_poll_failed", error=type(error).__name__)
                await asyncio.sleep(1)
                continue
            for update in updates:
                await self.accept(update.model_dump(mode="json", by_alias=True, exclude_none=True))
                offset = update.update_id + 1

    async def stop(self, grace: float = 10) -> None:
        await self.stop_work(grace)
        await self.bot.session.close()


async def setup(bot: Bot, webhook_url: str | None, secret: str | None) -> None:
    """The Chinese command menu, and the webhook (none: updates wait for long polling)."""
    commands = [BotCommand(command=name, description=title) for name, (_p, title) in COMMANDS.items()]
    await bot(SetMyCommands(commands=commands))
    if webhook_url:
        await bot(SetWebhook(url=webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))
    else:
        await bot(DeleteWebhook(drop_pending_updates=False))


def _command(text: str) -> str:
    """`/start`, `/menu`, `/help`, `/human` (also `/menu@bot`) as the intents they stand for; any other
    text as it is. `/start <payload>` is a t.me link's one-time binding code, handed in as the payload
    of redeem_chat_link (a payload Telegram could not have put in a link is ignored)."""
    if not text.startswith("/"):
        return text
    word, *rest = text[1:].split(maxsplit=1) or [""]
    word = word.split("@", 1)[0].lower()
    if word == "start" and rest and START_PAYLOAD.match(rest[0].strip()):
        return REDEEM + json.dumps({"link_code": rest[0].strip()})
    known = COMMANDS.get(word)
    return known[0] if known else text


def _picture(message: Message) -> tuple[str, int | None, str] | None:
    """The file to check as a photo: the largest size of a photo, or an image sent as a file."""
    if message.photo:
        largest: PhotoSize = max(message.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        return largest.file_id, largest.file_size, "photo.jpg"
    document: Document | None = message.document
    if document is not None:
        name = document.file_name or "photo.jpg"
        is_image = (document.mime_type or "").startswith("image/") or name.lower().endswith(
            (".jpg", ".jpeg", ".png")
        )
        return (document.file_id, document.file_size, name) if is_image else None
    return None


def _chat_of(data: dict[str, Any]) -> str | None:
    for kind in ("message", "edited_message", "my_chat_member"):
        if isinstance(data.get(kind), dict):
            return str(data[kind].get("chat", {}).get("id"))
    query = data.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        return str(query["message"]["chat"]["id"])
    return None


def build_channel(
    *,
    token: str,
    api_base: str | None,
    handle: Handler,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    http: httpx.AsyncClient,
    own_url: Callable[[], str],
    per_second: float,
    per_chat_per_second: float,
    send_timeout: int,
    lease_seconds: float,
) -> TelegramChannel:
    """The channel and its parts; `http` fetches our own app's images and PDFs."""
    bot = make_bot(token, api_base)
    sender = Sender(
        bot,
        sessions,
        clock,
        per_second=per_second,
        per_chat_per_second=per_chat_per_second,
        timeout=send_timeout,
    )
    keyboards = Keyboards(sessions, sender)
    output = TelegramOutput(sender, ButtonKeys(sessions, clock), http, own_url, keyboards)
    inbox: Inbox[int] = Inbox(INBOX, sessions, clock, lease_seconds)
    return TelegramChannel(bot, handle, inbox, sender, output)
