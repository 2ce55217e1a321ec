"""`jianpei telegram setup` sets the Chinese command menu and the webhook (with its secret), after
which Telegram's own deliveries reach the served app; long polling takes updates in without a webhook
and confirms each one only once it is in the inbox."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys

from bot.app import create_assistant_app
from nlu import Interpreter
from services.context import Backend
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.telegram.conftest import SECRET, telegram_settings
from tests.telegram.fake_api import TOKEN, FakeTelegram, Updates


async def jianpei_telegram(backend: Backend, fake: FakeTelegram, *args: str, mode: str = "webhook") -> str:
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
        "JIANPEI_ENV": "test",
        "JIANPEI_TELEGRAM_TOKEN": TOKEN,
        "JIANPEI_TELEGRAM_WEBHOOK_SECRET": SECRET,
        "JIANPEI_TELEGRAM_API_BASE": fake.base,
        "JIANPEI_TELEGRAM_MODE": mode,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "telegram",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, out.decode()
    return out.decode()


async def test_setup_sets_the_menu_and_the_webhook_and_telegram_then_delivers_to_it(
    backend: Backend, interpreter: Interpreter, fake: FakeTelegram
) -> None:
    app = create_assistant_app(backend, telegram_settings(fake), interpreter)
    async with uvicorn_serving(app) as served:
        await jianpei_telegram(backend, fake, "setup", "--url", f"{served}/webhooks/telegram")
        menu = json.loads(next(c for c in fake.calls if c.method == "setMyCommands").fields["commands"])
        assert {c["command"] for c in menu} == {"start", "menu", "help", "human"}
        assert {"主菜单", "转人工客服"} <= {c["description"] for c in menu}
        assert fake.webhook_url == f"{served}/webhooks/telegram" and fake.webhook_secret == SECRET

        await fake.push(Updates(fake, 6001).text("/start"))
        await fake.wait_for(lambda: any("建培助手" in t for t in fake.texts(6001)))
        assert fake.webhook_answers == [200]
    await app.state.telegram.stop()


async def test_long_polling_answers_and_confirms_each_update_after_taking_it_in(
    backend: Backend, interpreter: Interpreter, fake: FakeTelegram
) -> None:
    app = create_assistant_app(backend, telegram_settings(fake, telegram_mode="polling"), interpreter)
    user = Updates(fake, 6002)
    first, second = user.text("/start"), user.text("/menu")
    async with app.router.lifespan_context(app):
        await fake.push(first)
        await fake.wait_for(lambda: any("建培助手" in t for t in fake.texts(6002)))
        await fake.push(second)
        await fake.wait_for(lambda: len(fake.texts(6002)) >= 2)
        await fake.wait_for(
            lambda: any(
                c.method == "getUpdates" and c.fields.get("offset") == str(second["update_id"] + 1)
                for c in fake.calls
            )
        )
    offsets = [c.fields.get("offset") for c in fake.calls if c.method == "getUpdates"]
    assert str(first["update_id"] + 1) in offsets
    assert any(c.method == "deleteWebhook" for c in fake.calls)


async def test_of_two_polling_workers_only_the_leader_polls_and_the_other_takes_over_when_it_stops(
    backend: Backend, interpreter: Interpreter, fake: FakeTelegram
) -> None:
    settings = telegram_settings(fake, telegram_mode="polling", scheduler="off")
    first, second = (create_assistant_app(backend, settings, interpreter) for _ in range(2))
    user = Updates(fake, 6003)
    async with contextlib.AsyncExitStack() as leading:
        await leading.enter_async_context(first.router.lifespan_context(first))
        await fake.wait_for(lambda: any(c.method == "getUpdates" for c in fake.calls))
        async with second.router.lifespan_context(second):
            await fake.push(user.text("/start"))
            await fake.wait_for(lambda: any("建培助手" in t for t in fake.texts(6003)))
            assert sum(c.method == "deleteWebhook" for c in fake.calls) == 1  # the second stands by

            await leading.aclose()  # the leader stops and gives the lock back
            await fake.push(user.text("/menu"))
            await fake.wait_for(lambda: len(fake.texts(6003)) >= 2)  # the second took over
            assert sum(c.method == "deleteWebhook" for c in fake.calls) == 2
    assert not any(c.status == 409 for c in fake.calls)
