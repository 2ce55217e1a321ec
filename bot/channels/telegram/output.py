"""The assistant's answers as Telegram messages: text (split below Telegram's 4096 characters),
buttons as an inline keyboard, the repaired photo with sendPhoto, PDFs as documents in the chat.

Channels know nothing of the backend: images and PDFs are URLs on our own app, fetched over HTTP with
the client the composition root hands in. A link of our own app in a text becomes a document when it
answers with a PDF (the e-certificate, the training proof) and a URL button otherwise (the player)."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
import structlog
from aiogram.methods import SendDocument, SendMessage, SendPhoto
from aiogram.types import BufferedInputFile, InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer
from bot.channels.telegram.keyboards import Keyboards
from bot.channels.telegram.sender import Sender
from storage.models import TelegramButton

log = structlog.get_logger(__name__)

NAME = "telegram"
TEXT_LIMIT = 4000  # Telegram allows 4096; the margin keeps a split off the edge
CALLBACK_LIMIT = 64  # bytes of callback_data
KEY_MARK = "#"  # callback data starting with it is a key of a stored payload
LINK = re.compile(r"https?://[^\s，。；）)]+")
PDF = "application/pdf"
OPEN_LINK = "打开链接"
NO_TEXT = "请选择："


@dataclass(frozen=True)
class Download:
    content: bytes
    filename: str
    content_type: str


class ButtonKeys:
    """Button payloads longer than Telegram's 64 bytes travel as a short key; the payload stays here.
    The key is the payload's hash, so the same menu shown again stores nothing new."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock
        self._known: dict[str, str] = {}

    async def data(self, payload: str) -> str:
        if len(payload.encode()) <= CALLBACK_LIMIT and not payload.startswith(KEY_MARK):
            return payload
        digest = base64.urlsafe_b64encode(hashlib.sha256(payload.encode()).digest()[:12]).decode()
        key = f"{KEY_MARK}{digest}"
        if key not in self._known:
            try:
                async with self.sessions() as session, session.begin():
                    if await session.get(TelegramButton, key) is None:
                        session.add(TelegramButton(key=key, payload=payload, created_at=self.clock()))
            except IntegrityError:
                pass  # stored by another worker at the same moment
            self._known[key] = payload
        return key

    async def payload(self, data: str) -> str | None:
        """The payload a pressed button stands for; None for a key nobody stored."""
        if not data.startswith(KEY_MARK):
            return data
        if data in self._known:
            return self._known[data]
        async with self.sessions() as session:
            return await session.scalar(select(TelegramButton.payload).where(TelegramButton.key == data))


class TelegramOutput:
    """`OutputChannel` of Telegram: every message goes through the paced `Sender`."""

    name = NAME

    def __init__(
        self,
        sender: Sender,
        keys: ButtonKeys,
        http: httpx.AsyncClient,
        own_url: Callable[[], str],
        keyboards: Keyboards,
    ) -> None:
        self.sender = sender
        self.keys = keys
        self.http = http
        self.own_url = own_url  # where our own app's links point (it may move while running)
        self.keyboards = keyboards

    async def send(self, chat_id: str, answers: list[Answer]) -> list[str]:
        return [message_id for answer in answers for message_id in await self.deliver(chat_id, answer)]

    async def deliver(self, chat_id: str, answer: Answer) -> list[str]:
        """One answer: its text (with the keyboard, unless an image or file follows it), then its
        image, then its files; the message_id Telegram gave each."""
        text = str(answer.get("text") or "")
        keyboard = [[b] for b in await self._buttons(answer.get("buttons") or [])]
        documents: list[Download] = []
        for url in self._own_links(text):
            fetched = await self._fetch(url)
            if fetched is not None and fetched.content_type == PDF:
                documents.append(fetched)
            else:
                keyboard.append([InlineKeyboardButton(text=OPEN_LINK, url=url)])
        attachment = answer.get("attachment")
        if attachment:
            fetched = await self._fetch(_attachment_url(attachment))
            if fetched is not None:
                documents.append(fetched)
        image = await self._image(answer.get("image"))
        markup = InlineKeyboardMarkup(inline_keyboard=keyboard) if keyboard else None
        last_is_text = image is None and not documents
        if not text and markup is not None and last_is_text:
            text = NO_TEXT
        chunks = split_text(text)
        sent: list[str] = []
        for number, chunk in enumerate(chunks, start=1):
            with_markup = markup if last_is_text and number == len(chunks) else None
            message = SendMessage(chat_id=chat_id, text=chunk, reply_markup=with_markup)
            sent.append(str((await self.sender.call(chat_id, message)).message_id))
        if image is not None:
            photo = await self.sender.call(
                chat_id,
                SendPhoto(
                    chat_id=chat_id,
                    photo=BufferedInputFile(image.content, image.filename),
                    reply_markup=None if documents else markup,
                ),
            )
            sent.append(str(photo.message_id))
        for number, document in enumerate(documents, start=1):
            file = await self.sender.call(
                chat_id,
                SendDocument(
                    chat_id=chat_id,
                    document=BufferedInputFile(document.content, document.filename),
                    reply_markup=markup if number == len(documents) else None,
                ),
            )
            sent.append(str(file.message_id))
        pressable = any(b.callback_data for row in keyboard for b in row)
        if pressable:  # the keyboard rides on the last message
            await self.keyboards.shown(chat_id, int(sent[-1]))
        return sent

    async def _buttons(self, buttons: list[dict[str, Any]]) -> list[InlineKeyboardButton]:
        made = []
        for button in buttons:
            title = str(button.get("title") or "")[:64] or "·"
            payload = str(button.get("payload") or button.get("url") or title)
            if LINK.fullmatch(payload):
                made.append(InlineKeyboardButton(text=title, url=payload))
            else:
                made.append(InlineKeyboardButton(text=title, callback_data=await self.keys.data(payload)))
        return made

    def _own_links(self, text: str) -> list[str]:
        own = _origin(self.own_url())
        return [url for url in LINK.findall(text) if _origin(url) == own]

    async def _image(self, value: Any) -> Download | None:
        if not value:
            return None
        url = str(value)
        if url.startswith("data:"):
            header, _, data = url.partition(",")
            kind = header.removeprefix("data:").split(";")[0] or "image/jpeg"
            return Download(base64.b64decode(data), "photo.jpg", kind)
        return await self._fetch(url)

    async def _fetch(self, url: str) -> Download | None:
        """A file of our own app (an image, a PDF); None when it cannot be had right now."""
        try:
            response = await self.http.get(url)
        except httpx.HTTPError as error:
            log.warning("telegram_fetch_failed", error=type(error).__name__)
            return None
        if response.status_code != 200:
            log.warning("telegram_fetch_failed", status=response.status_code)
            return None
        content_type = response.headers.get("content-type", "").split(";")[0].strip()
        return Download(response.content, _filename(response, url), content_type)


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line break where there is one."""
    if not text:
        return []
    pieces = []
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        cut = cut if cut > limit // 2 else limit
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _origin(url: str) -> str:
    parts = urlparse(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def _attachment_url(attachment: Any) -> str:
    if isinstance(attachment, dict):
        return str(attachment.get("url") or attachment.get("payload", {}).get("src") or "")
    return str(attachment)


def _filename(response: httpx.Response, url: str) -> str:
    disposition = response.headers.get("content-disposition")
    if disposition:
        header = Message()
        header["content-disposition"] = disposition
        name = header.get_filename()
        if name:
            return name
    return unquote(urlparse(url).path.rsplit("/", 1)[-1]) or "file"
