"""The WeChat channel: a pushed message -> the durable inbox -> one turn of the assistant for
`wechat:<openid>` -> its answers out as customer-service messages.

WeChat waits only 5 seconds for the webhook and then pushes the message again; a turn (a photo
check, a backend call) can take longer. So the webhook answers "success" as soon as the message is
in the inbox, and the turn's answers follow as customer-service messages, however long it took."""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import datetime

import httpx
import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from wechatpy import events, messages
from wechatpy.messages import BaseMessage

from bot.channels.base import Answer, Left, conversation_id
from bot.channels.inbox import Handler, Inbox, InboxWorker, Table
from bot.channels.wechat import xml
from bot.channels.wechat.api import Tokens, WechatApi, WechatError
from bot.channels.wechat.output import NAME, ButtonKeys, Followers, Unfollowed, WechatOutput
from storage.models import WechatMessage

log = structlog.get_logger(__name__)

INBOX = Table(WechatMessage, key="key", chat="openid", body="xml")
# The custom menu `jianpei wechat setup` creates: 办理 / 我的 / 帮助, each a click with a key.
MENU = {
    "JIANPEI_MENU": ("办理", "/menu"),
    "JIANPEI_MINE": ("我的", "/certificate_status"),
    "JIANPEI_HELP": ("帮助", "/faq_menu"),
}
NOT_UNDERSTOOD = "我只看得懂文字、菜单和照片。请打字或点下面的菜单告诉我要办什么，发“菜单”看看我能做什么。"
NO_PHOTO = "这张照片没有收到，请再发一次。"


class WechatChannel(InboxWorker[str]):
    kind = "wechat_message"
    left: Left | None = None

    def __init__(
        self, api: WechatApi, handle: Handler, inbox: Inbox[str], output: WechatOutput, followers: Followers
    ) -> None:
        super().__init__(NAME, inbox, handle)
        self.api = api
        self.output = output
        self.followers = followers

    # -- in -----------------------------------------------------------------------------------------

    async def accept(self, plain_xml: str) -> bool:
        """Write the message to the inbox and start on it; False for a retry of one taken in.
        Raises xml.BadXml for something that is not a WeChat message."""
        message, key = xml.parse(plain_xml)
        return await self.take(key, str(message.source), plain_xml)

    async def answers_to(self, body: str) -> list[Answer]:
        return await self._answers(xml.parse(body)[0])

    async def deliver_to(self, chat: str, answer: Answer) -> bool:
        try:
            await self.output.deliver(chat, answer)
        except Unfollowed:
            return False
        except (WechatError, httpx.HTTPError) as error:  # one refused answer does not stop the rest
            log.error("wechat_send_failed", error=str(error)[:80])
        return True

    async def _answers(self, message: BaseMessage) -> list[Answer]:
        openid = str(message.source)
        if isinstance(message, events.UnsubscribeEvent):
            await self.followers.left(openid)
            if self.left is not None:
                await self.left(conversation_id(NAME, openid))
            return []
        await self.followers.back(openid)  # a follower who writes (or follows again) is here
        if isinstance(message, events.SubscribeEvent | events.SubscribeScanEvent):
            return await self.turn(openid, "/greet", {})
        if isinstance(message, events.ClickEvent):
            _title, payload = MENU.get(str(message.key), ("", "/menu"))
            return await self.turn(openid, payload, {})
        if isinstance(message, events.BaseEvent):
            return []  # a link in the menu opened, a location reported: nothing to answer
        if isinstance(message, messages.TextMessage):
            chosen = message._data.get("bizmsgmenuid")  # a menu item tapped: its payload
            pressed = await self.output.keys.payload(str(chosen)) if chosen else None
            return await self.turn(openid, pressed or str(message.content or ""), {})
        if isinstance(message, messages.VoiceMessage) and message.recognition:
            return await self.turn(openid, str(message.recognition), {})  # WeChat's speech to text
        if isinstance(message, messages.ImageMessage):
            try:
                content = await self.api.download(str(message.media_id))
            except (WechatError, httpx.HTTPError) as error:
                log.warning("wechat_download_failed", error=str(error)[:80])
                return [{"text": NO_PHOTO}]
            attachment = {"filename": "photo.jpg", "content_base64": base64.b64encode(content).decode()}
            return await self.turn(openid, "", {"attachment": attachment})
        return [{"text": NOT_UNDERSTOOD}]

    # -- running ------------------------------------------------------------------------------------

    async def start(self, sweep_seconds: float) -> None:
        """Take up what a previous run left, and keep doing so every `sweep_seconds`."""
        await self.resume()
        self.start_sweeping(sweep_seconds)

    async def stop(self, grace: float = 10) -> None:
        await self.stop_work(grace)
        await self.api.http.aclose()


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
    inbox: Inbox[str] = Inbox(INBOX, sessions, clock, lease_seconds)
    return WechatChannel(api, handle, inbox, output, followers)


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
