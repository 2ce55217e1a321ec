"""The assistant's WeChat channel against the fake WeChat API: the channel speaks real HTTP to it on
127.0.0.1; messages are posted to the app's webhook signed (and in safe mode encrypted) as WeChat
does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_assistant_app
from bot.channels.wechat.channel import WechatChannel
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.conftest import interpreter, nlu_data_dir
from tests.wechat.fake_api import AES_KEY, APP_ID, APP_SECRET, TOKEN, Call, FakeWechat, WechatServer

__all__ = ["interpreter", "nlu_data_dir"]

OPENID = "oJianpei0000000000000000001"


@pytest.fixture
async def fake() -> AsyncIterator[FakeWechat]:
    server = FakeWechat()
    await server.start()
    yield server
    await server.stop()


def wechat_settings(fake: FakeWechat, *, safe: bool = False, **overrides: Any) -> AssistantSettings:
    values: dict[str, Any] = {
        "wechat_app_id": APP_ID,
        "wechat_app_secret": APP_SECRET,
        "wechat_token": TOKEN,
        "wechat_aes_key": AES_KEY if safe else None,
        "wechat_api_base": fake.base,
        **overrides,
    }
    return AssistantSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def wechat_app(backend: Backend, interpreter: Interpreter, fake: FakeWechat) -> AsyncIterator[FastAPI]:
    app = create_assistant_app(backend, wechat_settings(fake), interpreter)
    yield app
    await app.state.wechat.stop()


@pytest.fixture
async def wx_http(wechat_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=wechat_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jianpei.test") as http:
        yield http


class Follower:
    """A follower of the Official Account. Each step is a message WeChat pushes to the webhook; the
    step waits until the channel has handled it and returns what reached the follower."""

    def __init__(self, server: WechatServer, fake: FakeWechat, channel: WechatChannel) -> None:
        self.server = server
        self.fake = fake
        self.channel = channel
        self.openid = server.openid
        self.conversation_id = f"wechat:{server.openid}"
        self.menu: list[dict[str, Any]] = []

    async def send(self, xml: str) -> list[Call]:
        before = len(self.fake.sent(self.openid))
        response = await self.server.post(xml)
        assert response.status_code == 200, response.text
        assert response.text == "success"
        await self.channel.idle()
        calls = self.fake.sent(self.openid)[before:]
        menus = [c.body["msgmenu"]["list"] for c in calls if c.msgtype == "msgmenu"]
        self.menu = menus[-1] if menus else self.menu
        return calls

    async def say(self, text: str) -> str:
        return shown(await self.send(self.server.text(text)))

    async def tap(self, title_part: str) -> str:
        """Tap an item of the last menu message: WeChat sends its title with its id."""
        item = next((i for i in self.menu if title_part in i["content"]), None)
        assert item is not None, f"no item {title_part!r} in {self.menu}"
        return shown(await self.send(self.server.text(item["content"], bizmsgmenuid=item["id"])))


def shown(calls: list[Call]) -> str:
    """What the follower reads of `calls`: texts, and a menu message's head and items."""
    lines = []
    for call in calls:
        if call.msgtype == "text":
            lines.append(call.body["text"]["content"])
        elif call.msgtype == "msgmenu":
            menu = call.body["msgmenu"]
            lines.append(menu["head_content"])
            lines.extend(item["content"] for item in menu["list"])
    return "\n".join(lines)


@pytest.fixture
def follower(wx_http: httpx.AsyncClient, fake: FakeWechat, wechat_app: FastAPI) -> Follower:
    return Follower(WechatServer(wx_http, OPENID), fake, wechat_app.state.wechat)
