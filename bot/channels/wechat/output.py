"""The assistant's answers as WeChat customer-service messages (客服消息), which may be sent at any
time within 48 hours of the follower's last message: texts (cut below WeChat's 2048 bytes), buttons
as a menu message (`msgmenu`: tapping an item sends its id back), the repaired photo uploaded as
temporary media and sent as an image. WeChat cannot send a file to a follower, so a PDF (the
training proof, the e-certificate) stays the signed download link the answer carries.

Outside the 48-hour window WeChat refuses (45047); a configured template message then carries the
text, else the refusal is raised for the sender to use another way (SMS)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote, urlparse

import httpx
import structlog
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.channels.base import Answer
from bot.channels.wechat.api import OUT_OF_WINDOW, WechatApi, WechatError
from storage.models import WechatButton, WechatFollower

log = structlog.get_logger(__name__)

NAME = "wechat"
TEXT_BYTES = 2000  # WeChat allows 2048 bytes of text; the margin keeps a cut off the edge
LINK = re.compile(r"https?://\S+")
KEY_MARK = "b"


class Unfollowed(Exception):
    """The follower unfollowed the account; nothing is sent to him until he comes back."""


class ButtonKeys:
    """A menu item carries a short id; the payload (`/intent{...}`) it stands for stays here. The id
    is the payload's hash, so the same menu shown again stores nothing new."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock
        self._known: dict[str, str] = {}

    async def key(self, payload: str) -> str:
        key = KEY_MARK + hashlib.sha256(payload.encode()).hexdigest()[:16]
        if key not in self._known:
            try:
                async with self.sessions() as session, session.begin():
                    if await session.get(WechatButton, key) is None:
                        session.add(WechatButton(key=key, payload=payload, created_at=self.clock()))
            except IntegrityError:
                pass  # stored by another worker at the same moment
            self._known[key] = payload
        return key

    async def payload(self, key: str) -> str | None:
        if key not in self._known:
            async with self.sessions() as session:
                found = await session.scalar(select(WechatButton.payload).where(WechatButton.key == key))
            if found is None:
                return None
            self._known[key] = found
        return self._known[key]


class Followers:
    """Who unfollowed: WeChat refuses messages to them, so none are tried."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.clock = clock

    async def left(self, openid: str) -> None:
        try:
            async with self.sessions() as session, session.begin():
                session.add(WechatFollower(openid=openid, unfollowed_at=self.clock()))
        except IntegrityError:
            pass  # already marked

    async def back(self, openid: str) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(delete(WechatFollower).where(WechatFollower.openid == openid))

    async def gone(self, openid: str) -> bool:
        async with self.sessions() as session:
            return await session.get(WechatFollower, openid) is not None


class WechatOutput:
    name = NAME

    def __init__(
        self,
        api: WechatApi,
        keys: ButtonKeys,
        followers: Followers,
        http: httpx.AsyncClient,
        template_id: str | None,
    ) -> None:
        self.api = api
        self.keys = keys
        self.followers = followers
        self.http = http
        self.template_id = template_id

    async def send(self, chat_id: str, answers: list[Answer]) -> list[str]:
        return [msgid for answer in answers for msgid in await self.deliver(chat_id, answer)]

    async def deliver(self, openid: str, answer: Answer) -> list[str]:
        """One answer as one or more messages: its text, then its image; the msgids WeChat gave."""
        if await self.followers.gone(openid):
            raise Unfollowed(openid)
        text = str(answer.get("text") or "")
        url = _attachment_url(answer.get("attachment"))
        if url:
            text = f"{text}\n{url}".strip()
        buttons = list(answer.get("buttons") or [])
        links = [b for b in buttons if LINK.fullmatch(str(b.get("payload") or b.get("url") or ""))]
        for button in links:
            href = str(button.get("payload") or button.get("url"))
            text = f'{text}\n<a href="{href}">{button.get("title") or href}</a>'.strip()
        choices = [b for b in buttons if b not in links]
        pieces = split_text(text)
        if choices:
            head = pieces.pop() if pieces else ""
        sent = [
            await self._send(openid, {"msgtype": "text", "text": {"content": piece}}, piece)
            for piece in pieces
        ]
        if choices:
            items = [
                {"id": await self.keys.key(str(b.get("payload") or b.get("title"))), "content": b["title"]}
                for b in choices
            ]
            menu = {"head_content": head, "list": items, "tail_content": ""}
            sent.append(await self._send(openid, {"msgtype": "msgmenu", "msgmenu": menu}, head))
        if answer.get("image"):
            sent.append(await self._image(openid, str(answer["image"])))
        return [msgid for msgid in sent if msgid is not None]

    async def _image(self, openid: str, url: str) -> str | None:
        try:
            response = await self.http.get(url)
            response.raise_for_status()
        except httpx.HTTPError as error:
            log.warning("wechat_image_fetch_failed", error=type(error).__name__)
            return None
        content_type = response.headers.get("content-type", "image/jpeg").split(";")[0].strip()
        filename = unquote(urlparse(url).path.rsplit("/", 1)[-1]) or "photo.jpg"
        if "." not in filename:
            filename += ".jpg"
        media_id = await self.api.upload_image(filename, response.content, content_type)
        return await self._send(openid, {"msgtype": "image", "image": {"media_id": media_id}}, "")

    async def _send(self, openid: str, message: dict[str, Any], text: str) -> str | None:
        try:
            return await self.api.send({"touser": openid, **message})
        except WechatError as error:
            if error.code != OUT_OF_WINDOW or not self.template_id or not text:
                raise
            log.info("wechat_outside_window_template")
            template = {
                "touser": openid,
                "template_id": self.template_id,
                "data": {"content": {"value": text}},
            }
            return await self.api.send_template(template)


def split_text(text: str, limit: int = TEXT_BYTES) -> list[str]:
    """Pieces of at most `limit` UTF-8 bytes, cut at a line break where there is one."""
    pieces = []
    while len(text.encode()) > limit:
        cut = len(text.encode()[:limit].decode(errors="ignore"))
        line = text.rfind("\n", 0, cut)
        cut = line if line > cut // 2 else cut
        pieces.append(text[:cut])
        text = text[cut:].lstrip("\n")
    if text:
        pieces.append(text)
    return pieces


def _attachment_url(attachment: Any) -> str:
    if isinstance(attachment, dict):
        return str(attachment.get("url") or attachment.get("payload", {}).get("src") or "")
    return str(attachment or "")
