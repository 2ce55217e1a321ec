"""The web chat receives what is pushed to it from outside any turn, shows its history after a
reload, and keeps a message typed while a reply is on its way — in Debian's headless Chromium."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from selenium.webdriver.common.by import By
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.channels.outbound import Outbound
from bot.runtime.domain import load_domain
from bot.runtime.store import TrackerStore
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from storage.models import ConversationEvent
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.assistant.test_web_chat_browser import Page, phone_browser

NOTICE = "【温馨提示】尊敬的学员，恭喜您的继续教育已完成，可登录管理系统查看学时记录，获取最新的电子证书。"


@pytest.fixture
async def served_app(backend: Backend, interpreter: Interpreter) -> AsyncIterator[tuple[str, FastAPI]]:
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as base:
        yield base, app


async def test_a_pushed_message_shows_live_and_after_a_reload(
    served_app: tuple[str, FastAPI], backend: Backend
) -> None:
    base, app = served_app
    outbound: Outbound = app.state.outbound
    loop = asyncio.get_running_loop()

    def push(sender: str, text: str) -> None:
        asyncio.run_coroutine_threadsafe(outbound.send(f"rest:{sender}", [{"text": text}]), loop).result(30)

    def visit() -> dict[str, object]:
        browser = phone_browser()
        try:
            page = Page(browser)
            browser.get(f"{base}/")
            page.wait_for("建培助手")
            sender = str(browser.execute_script("return localStorage.getItem('jianpei-sender')"))
            page.type("客服电话多少")
            page.wait_for("4009999355")
            push(sender, NOTICE)  # no turn, no reload: the page must show it by itself
            page.wait_for("恭喜您的继续教育已完成")
            live = page.bot_texts()
            browser.refresh()
            page.wait_for("恭喜您的继续教育已完成")
            page.wait.until(lambda b: len(page.bot_texts()) >= len(live))
            after_reload = page.bot_texts()
            users = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.user")]
            push(sender, "第二条通知")  # pushed to the reloaded page, shown once
            page.wait_for("第二条通知")
            return {
                "live": live,
                "after_reload": after_reload,
                "users": users,
                "final": page.bot_texts(),
            }
        finally:
            browser.quit()

    seen = await asyncio.to_thread(visit)
    assert seen["after_reload"] == seen["live"], "the reload shows the same chat, no new greeting"
    assert seen["users"] == ["客服电话多少"]
    final = seen["final"]
    assert isinstance(final, list)
    assert sum("第二条通知" in t for t in final) == 1
    assert sum("恭喜您的继续教育已完成" in t for t in final) == 1


async def test_a_message_typed_during_a_slow_reply_is_sent_after_it(
    served_app: tuple[str, FastAPI], backend: Backend
) -> None:
    base, _app = served_app
    loop = asyncio.get_running_loop()
    store = TrackerStore(backend.engine, backend.sessions, load_domain())
    held = asyncio.Event()
    release = asyncio.Event()

    async def hold(conversation: str) -> None:
        """Another turn of the same chat in progress: the page's next reply has to wait for it."""
        async with store.locked(conversation):
            held.set()
            await release.wait()

    def visit() -> str:
        browser = phone_browser()
        try:
            page = Page(browser)
            browser.get(f"{base}/")
            page.wait_for("建培助手")
            sender = str(browser.execute_script("return localStorage.getItem('jianpei-sender')"))
            holding = asyncio.run_coroutine_threadsafe(hold(f"rest:{sender}"), loop)
            asyncio.run_coroutine_threadsafe(held.wait(), loop).result(30)
            page.type("照片有什么要求")
            page.type("客服电话多少")  # typed while the first is still on its way
            loop.call_soon_threadsafe(release.set)
            page.wait_for("4009999355")
            holding.result(30)
            return sender
        finally:
            browser.quit()

    sender = await asyncio.to_thread(visit)
    async with backend.sessions() as session:
        said = [
            json.loads(data).get("text")
            for data in await session.scalars(
                select(ConversationEvent.data)
                .where(ConversationEvent.sender_id == f"rest:{sender}", ConversationEvent.type_name == "user")
                .order_by(ConversationEvent.id)
            )
        ]
    assert said[-2:] == ["照片有什么要求", "客服电话多少"]


async def test_the_push_stream_of_a_made_up_chat_gets_nothing(served_app: tuple[str, FastAPI]) -> None:
    base, _app = served_app
    async with httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/webhooks/rest/stream", json={"sender": "web-made-up", "after": 0})
    assert answer.status_code == 404
    assert answer.json()["error"]["message"] == "没有这个对话"
