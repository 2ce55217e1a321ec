"""The Telegram channel: an update in (webhook or long polling) -> the durable inbox -> one turn of
the assistant for `telegram:<chat_id>` -> its answers out through the paced sender.

aiogram is the transport only: it parses updates and makes the Bot API calls. The tracker is the
state (no aiogram FSM, no Redis) and turns are serialised by the runtime's own per-chat lock."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import TelegramAPIError, TelegramConflictError
from aiogram.methods import AnswerCallbackQuery, DeleteWebhook, GetUpdates, SetMyCommands, SetWebhook
from aiogram.types import BotCommand, Document, Message, PhotoSize, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer, UserMessage, conversation_id
from bot.channels.telegram.inbox import ANSWERED, Inbox
from bot.channels.telegram.output import NAME, ButtonKeys, TelegramOutput
from bot.channels.telegram.sender import ChatBlocked, Sender
from bot.runtime.logid import chat_tag
from rules.help import APOLOGY

log = structlog.get_logger(__name__)

Handler = Callable[[UserMessage], Awaitable[list[Answer]]]

FILE_LIMIT = 20 * 1024 * 1024  # the most a bot may download from Telegram
POLL_SECONDS = 25
KEEP_DONE = timedelta(days=1)
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
OLD_BUTTON = "这个按钮已经过期了，请发送 /menu 重新选择。"


def make_bot(token: str, api_base: str | None, timeout: float = 30) -> Bot:
    """An aiogram Bot speaking to Telegram, or to `api_base` (a local Bot API server, a test double)."""
    api = TelegramAPIServer.from_base(api_base) if api_base else None
    session = AiohttpSession(api=api, timeout=timeout) if api else AiohttpSession(timeout=timeout)
    return Bot(token, session=session)


class TelegramChannel:
    def __init__(
        self,
        bot: Bot,
        handle: Handler,
        inbox: Inbox,
        sender: Sender,
        output: TelegramOutput,
    ) -> None:
        self.bot = bot
        self.handle = handle
        self.inbox = inbox
        self.sender = sender
        self.output = output
        self._work: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    # -- in -----------------------------------------------------------------------------------------

    async def accept(self, data: dict[str, Any]) -> bool:
        """Write the update to the inbox and start on it; False for an update already taken in."""
        update_id = int(data["update_id"])
        if not await self.inbox.add(update_id, _chat_of(data), data):
            log.info("telegram_update_redelivered", update_id=update_id)
            return False
        self._start(update_id)
        return True

    def _start(self, update_id: int) -> None:
        task = asyncio.create_task(self.process(update_id))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def resume(self) -> int:
        """Take up every update a dead worker left unfinished; how many were taken."""
        taken = 0
        for update_id in await self.inbox.lapsed():
            if await self.inbox.claim(update_id):
                self._start(update_id)
                taken += 1
        if taken:
            log.info("telegram_updates_resumed", count=taken)
        return taken

    async def process(self, update_id: int) -> None:
        """One claimed update: its turn (unless it already ran), then the answers not yet sent."""
        entry = await self.inbox.get(update_id)
        answers = entry.answers
        if entry.state != ANSWERED:
            answers = await self._answers(entry.data)
            await self.inbox.answered(update_id, answers)
        if entry.chat_id is not None:
            for number in range(entry.sent, len(answers)):
                try:
                    await self.output.deliver(entry.chat_id, answers[number])
                except ChatBlocked:
                    break
                except TelegramAPIError as error:  # one answer Telegram refuses does not stop the rest
                    log.error("telegram_send_failed", update_id=update_id, error=type(error).__name__)
                await self.inbox.progress(update_id, number + 1)
        await self.inbox.done(update_id)

    async def _answers(self, data: dict[str, Any]) -> list[Answer]:
        update = Update.model_validate(data, context={"bot": self.bot})
        if update.my_chat_member is not None:
            if update.my_chat_member.new_chat_member.status == "kicked":
                await self.sender.mark_blocked(str(update.my_chat_member.chat.id))
            return []
        if update.callback_query is not None:
            query = update.callback_query
            with contextlib.suppress(TelegramAPIError):  # the spinner stops; a stale query is harmless
                await self.bot(AnswerCallbackQuery(callback_query_id=query.id))
            if query.message is None:
                return []
            payload = await self.output.keys.payload(query.data or "")
            if payload is None:
                return [{"text": OLD_BUTTON}]
            return await self._turn(str(query.message.chat.id), payload, {})
        if update.message is None:
            return []
        message = update.message
        chat_id = str(message.chat.id)
        await self.sender.unblock(chat_id)
        if message.text is not None:
            return await self._turn(chat_id, _command(message.text), {})
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
        return await self._turn(chat_id, message.caption or "", {"attachment": attachment})

    async def _download(self, file_id: str) -> bytes | None:
        file = await self.bot.get_file(file_id)
        if file.file_path is None or (file.file_size or 0) > FILE_LIMIT:
            return None
        got = await self.bot.download_file(file.file_path)
        return got.read() if got is not None else None

    async def _turn(self, chat_id: str, text: str, metadata: dict[str, Any]) -> list[Answer]:
        sender_id = conversation_id(NAME, chat_id)
        try:
            return await self.handle(UserMessage(text, sender_id, NAME, metadata))
        except Exception as exc:  # the chat gets an apology whatever broke inside
            error_id = secrets.token_hex(4)
            log.error("turn_failed", error_id=error_id, chat=chat_tag(sender_id), error=type(exc).__name__)
            return [{"text": f"{APOLOGY}（错误编号 {error_id}）"}]

    # -- running ------------------------------------------------------------------------------------

    async def start(self, *, polling: bool, sweep_seconds: float) -> None:
        """Take up what a previous run left, keep doing so every `sweep_seconds`; poll if told to."""
        await self.resume()
        self._loops.append(asyncio.create_task(self._sweep(sweep_seconds)))
        if polling:
            self._loops.append(asyncio.create_task(self.poll()))

    async def _sweep(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.resume()
                await self.inbox.prune(KEEP_DONE)
            except Exception as exc:  # a database hiccup must not end the sweeping
                log.error("telegram_sweep_failed", error=type(exc).__name__)

    async def poll(self) -> None:
        """Long polling: each update is in the inbox before the next getUpdates confirms it."""
        await self.bot(DeleteWebhook(drop_pending_updates=False))
        offset: int | None = None
        while True:
            try:
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
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        if self._work:
            await asyncio.wait(set(self._work), timeout=grace)
        await self.bot.session.close()

    async def idle(self) -> None:
        """Until every update taken in so far is handled (for tests, benchmarks and shutdown)."""
        while self._work:
            await asyncio.wait(set(self._work))


async def setup(bot: Bot, webhook_url: str | None, secret: str | None) -> None:
    """The Chinese command menu, and the webhook (none: updates wait for long polling)."""
    commands = [BotCommand(command=name, description=title) for name, (_p, title) in COMMANDS.items()]
    await bot(SetMyCommands(commands=commands))
    if webhook_url:
        await bot(SetWebhook(url=webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES))
    else:
        await bot(DeleteWebhook(drop_pending_updates=False))


def _command(text: str) -> str:
    """`/start`, `/menu`, `/help`, `/human` (also `/menu@bot`, `/start <payload>`) as the intents they
    stand for; any other text as it is."""
    if not text.startswith("/"):
        return text
    word = text[1:].split(maxsplit=1)[0].split("@", 1)[0] if len(text) > 1 else ""
    known = COMMANDS.get(word.lower())
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
    lease_seconds: float,
) -> TelegramChannel:
    """The channel and its parts; `http` fetches our own app's images and PDFs."""
    bot = make_bot(token, api_base)
    sender = Sender(bot, sessions, clock, per_second=per_second, per_chat_per_second=per_chat_per_second)
    output = TelegramOutput(sender, ButtonKeys(sessions, clock), http, own_url)
    return TelegramChannel(bot, handle, Inbox(sessions, clock, lease_seconds), sender, output)
