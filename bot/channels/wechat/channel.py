"""The WeChat channel: a pushed message -> the durable inbox -> one turn of the assistant for
`wechat:<openid>` -> its answers out as customer-service messages.

WeChat waits only 5 seconds for the webhook and then pushes the message again; a turn (a photo
check, a backend call) can take longer. So the webhook answers "success" as soon as the message is
in the inbox, and the turn's answers follow as customer-service messages, however long it took."""

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
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy import events, messages
from wechatpy.messages import BaseMessage

from bot.channels.base import Answer, UserMessage, conversation_id
from bot.channels.wechat import xml
from bot.channels.wechat.api import Tokens, WechatApi, WechatError
from bot.channels.wechat.inbox import ANSWERED, Inbox
from bot.channels.wechat.output import NAME, ButtonKeys, Followers, Unfollowed, WechatOutput
from bot.runtime.logid import chat_tag
from rules.help import APOLOGY

log = structlog.get_logger(__name__)

Handler = Callable[[UserMessage], Awaitable[list[Answer]]]

KEEP_DONE = timedelta(days=1)
# The custom menu `jianpei wechat setup` creates: 办理 / 我的 / 帮助, each a click with a key.
MENU = {
    "JIANPEI_MENU": ("办理", "/menu"),
    "JIANPEI_MINE": ("我的", "/certificate_status"),
    "JIANPEI_HELP": ("帮助", "/faq_menu"),
}
NOT_UNDERSTOOD = "我只看得懂文字、菜单和照片。请打字或点下面的菜单告诉我要办什么，发“菜单”看看我能做什么。"
NO_PHOTO = "这张照片没有收到，请再发一次。"


class WechatChannel:
    def __init__(
        self, api: WechatApi, handle: Handler, inbox: Inbox, output: WechatOutput, followers: Followers
    ) -> None:
        self.api = api
        self.handle = handle
        self.inbox = inbox
        self.output = output
        self.followers = followers
        self._work: set[asyncio.Task[None]] = set()
        self._loops: list[asyncio.Task[None]] = []

    # -- in -----------------------------------------------------------------------------------------

    async def accept(self, plain_xml: str) -> bool:
        """Write the message to the inbox and start on it; False for a retry of one taken in.
        Raises xml.BadXml for something that is not a WeChat message."""
        message, key = xml.parse(plain_xml)
        if not await self.inbox.add(key, str(message.source), plain_xml):
            log.info("wechat_message_redelivered")
            return False
        self._start(key)
        return True

    def _start(self, key: str) -> None:
        task = asyncio.create_task(self.process(key))
        self._work.add(task)
        task.add_done_callback(self._work.discard)

    async def resume(self) -> int:
        """Take up every message a dead worker left unfinished; how many were taken."""
        taken = 0
        for key in await self.inbox.lapsed():
            if await self.inbox.claim(key):
                self._start(key)
                taken += 1
        if taken:
            log.info("wechat_messages_resumed", count=taken)
        return taken

    async def process(self, key: str) -> None:
        """One claimed message: its turn (unless it already ran), then the answers not yet sent."""
        entry = await self.inbox.get(key)
        answers = entry.answers
        if entry.state != ANSWERED:
            answers = await self._answers(xml.parse(entry.xml)[0])
            await self.inbox.answered(key, answers)
        for number in range(entry.sent, len(answers)):
            try:
                await self.output.deliver(entry.openid, answers[number])
            except Unfollowed:
                break
            except (WechatError, httpx.HTTPError) as error:  # one refused answer does not stop the rest
                log.error("wechat_send_failed", error=str(error)[:80])
            await self.inbox.progress(key, number + 1)
        await self.inbox.done(key)

    async def _answers(self, message: BaseMessage) -> list[Answer]:
        openid = str(message.source)
        if isinstance(message, events.UnsubscribeEvent):
            await self.followers.left(openid)
            return []
        await self.followers.back(openid)  # a follower who writes (or follows again) is here
        if isinstance(message, events.SubscribeEvent | events.SubscribeScanEvent):
            return await self._turn(openid, "/greet", {})
        if isinstance(message, events.ClickEvent):
            _title, payload = MENU.get(str(message.key), ("", "/menu"))
            return await self._turn(openid, payload, {})
        if isinstance(message, events.BaseEvent):
            return []  # a link in the menu opened, a location reported: nothing to answer
        if isinstance(message, messages.TextMessage):
            chosen = message._data.get("bizmsgmenuid")  # a menu item tapped: its payload
            pressed = await self.output.keys.payload(str(chosen)) if chosen else None
            return await self._turn(openid, pressed or str(message.content or ""), {})
        if isinstance(message, messages.VoiceMessage) and message.recognition:
            return await self._turn(openid, str(message.recognition), {})  # WeChat's speech to text
        if isinstance(message, messages.ImageMessage):
            try:
                content = await self.api.download(str(message.media_id))
            except (WechatError, httpx.HTTPError) as error:
                log.warning("wechat_download_failed", error=str(error)[:80])
                return [{"text": NO_PHOTO}]
            attachment = {"filename": "photo.jpg", "content_base64": base64.b64encode(content).decode()}
            return await self._turn(openid, "", {"attachment": attachment})
        return [{"text": NOT_UNDERSTOOD}]

    async def _turn(self, openid: str, text: str, metadata: dict[str, Any]) -> list[Answer]:
        sender_id = conversation_id(NAME, openid)
        try:
            return await self.handle(UserMessage(text, sender_id, NAME, metadata))
        except Exception as exc:  # the follower gets an apology whatever broke inside
            error_id = secrets.token_hex(4)
            log.error("turn_failed", error_id=error_id, chat=chat_tag(sender_id), error=type(exc).__name__)
            return [{"text": f"{APOLOGY}（错误编号 {error_id}）"}]

    # -- running ------------------------------------------------------------------------------------

    async def start(self, sweep_seconds: float) -> None:
        """Take up what a previous run left, and keep doing so every `sweep_seconds`."""
        await self.resume()
        self._loops.append(asyncio.create_task(self._sweep(sweep_seconds)))

    async def _sweep(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.resume()
                await self.inbox.prune(KEEP_DONE)
            except Exception as exc:  # a database hiccup must not end the sweeping
                log.error("wechat_sweep_failed", error=type(exc).__name__)

    async def stop(self, grace: float = 10) -> None:
        for task in self._loops:
            task.cancel()
        for task in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loops.clear()
        if self._work:
            await asyncio.wait(set(self._work), timeout=grace)
        await self.api.http.aclose()

    async def idle(self) -> None:
        """Until every message taken in so far is handled (for tests, benchmarks and shutdown)."""
        while self._work:
            await asyncio.wait(set(self._work))


async def setup(api: WechatApi) -> None:
    """The custom menu: 办理 / 我的 / 帮助, each a click the channel turns into its intent."""
    buttons = [{"type": "click", "name": title, "key": key} for key, (title, _p) in MENU.items()]
    await api.create_menu({"button": buttons})


def build_channel(
    *,
    app_id: str,
    secret: str,
    api_base: str,
    template_id: str | None,
    handle: Handler,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
    http: httpx.AsyncClient,
    lease_seconds: float,
) -> WechatChannel:
    """The channel and its parts; `http` fetches our own app's images."""
    api = build_api(app_id=app_id, secret=secret, api_base=api_base, sessions=sessions, clock=clock)
    followers = Followers(sessions, clock)
    output = WechatOutput(api, ButtonKeys(sessions, clock), followers, http, template_id)
    return WechatChannel(api, handle, Inbox(sessions, clock, lease_seconds), output, followers)


def build_api(
    *,
    app_id: str,
    secret: str,
    api_base: str,
    sessions: async_sessionmaker[AsyncSession],
    clock: Callable[[], datetime],
) -> WechatApi:
    to_wechat = httpx.AsyncClient(base_url=api_base, timeout=30)
    return WechatApi(to_wechat, Tokens(to_wechat, app_id, secret, sessions, clock))
