"""The assistant's Telegram channel against the fake Bot API server: aiogram speaks real HTTP to it on
127.0.0.1; updates are delivered to the app's webhook with the secret header, as Telegram does."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bot.app import create_assistant_app
from bot.channels.telegram.channel import TelegramChannel
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.conftest import interpreter, nlu_data_dir
from tests.telegram.fake_api import TOKEN, Call, FakeTelegram, Updates

__all__ = ["interpreter", "nlu_data_dir"]

SECRET = "webhook-secret-for-tests"


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


def telegram_settings(fake: FakeTelegram, **overrides: Any) -> AssistantSettings:
    values: dict[str, Any] = {
        "telegram_token": TOKEN,
        "telegram_webhook_secret": SECRET,
        "telegram_api_base": fake.base,
        "telegram_rate": 1000.0,  # the pace has its own tests; stories need not wait a second a message
        "telegram_chat_rate": 1000.0,
        **overrides,
    }
    return AssistantSettings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
async def telegram_app(
    backend: Backend, interpreter: Interpreter, fake: FakeTelegram
) -> AsyncIterator[FastAPI]:
    app = create_assistant_app(backend, telegram_settings(fake), interpreter)
    yield app
    await app.state.telegram.stop()


@pytest.fixture
async def tg_http(telegram_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=telegram_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jianpei.test") as http:
        yield http


class TelegramUser:
    """A trainee in his private chat with the bot. Each step delivers an update to the webhook, waits
    until the channel has handled it, and returns the calls that went into his chat."""

    def __init__(
        self, http: httpx.AsyncClient, fake: FakeTelegram, channel: TelegramChannel, chat_id: int
    ) -> None:
        self.http = http
        self.fake = fake
        self.channel = channel
        self.chat_id = chat_id
        self.updates = Updates(fake, chat_id)
        self.conversation_id = f"telegram:{chat_id}"
        self.buttons: list[dict[str, Any]] = []

    async def deliver(self, update: dict[str, Any], secret: str | None = SECRET) -> httpx.Response:
        headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
        return await self.http.post("/webhooks/telegram", json=update, headers=headers)

    async def send(self, update: dict[str, Any]) -> list[Call]:
        before = len(self.fake.sent(self.chat_id))
        response = await self.deliver(update)
        assert response.status_code == 200, response.text
        await self.channel.idle()
        calls = self.fake.sent(self.chat_id)[before:]
        pressable = [{**b, "message_id": c.message_id} for c in calls for b in c.buttons]
        self.buttons = pressable or self.buttons
        return calls

    async def say(self, text: str) -> str:
        return "\n".join(str(c.fields.get("text") or "") for c in await self.send(self.updates.text(text)))

    async def press(self, title_part: str) -> str:
        button = next((b for b in self.buttons if title_part in b["text"]), None)
        assert button is not None, f"no button {title_part!r} in {self.buttons}"
        calls = await self.send(self.updates.press(button["callback_data"], button["message_id"]))
        return "\n".join(str(c.fields.get("text") or "") for c in calls)


@pytest.fixture
def tg_user(tg_http: httpx.AsyncClient, fake: FakeTelegram, telegram_app: FastAPI) -> TelegramUser:
    return TelegramUser(tg_http, fake, telegram_app.state.telegram, 5001)
