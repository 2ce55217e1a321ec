"""The web chat page in Debian's headless Chromium on a phone-sized screen: buttons, typing, a
binding with the SMS code, a photo upload with its confirmation, links rendered as links, and the
e-certificate PDF behind its 点击下载 link."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ChatBinding, Photo
from tests.assistant.stories import latest_code
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.photos.synth import id_photo_jpeg

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@pytest.fixture
async def served(backend: Backend, interpreter: Interpreter) -> AsyncIterator[str]:
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as base:
        backend.settings = backend.settings.model_copy(update={"public_url": base})
        yield base


def phone_browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=390,844",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Page:
    def __init__(self, browser: webdriver.Chrome) -> None:
        self.browser = browser
        self.wait = WebDriverWait(browser, 60)

    def bot_texts(self) -> list[str]:
        return [e.text for e in self.browser.find_elements(By.CSS_SELECTOR, ".msg.bot")]

    def wait_for(self, text: str) -> None:
        self.wait.until(lambda _b: any(text in t for t in self.bot_texts()))

    def press(self, title: str) -> None:
        def newest(_b: object) -> object:
            buttons = [
                b for b in self.browser.find_elements(By.CSS_SELECTOR, ".buttons button") if b.text == title
            ]
            return buttons[-1] if buttons else False

        self.wait.until(newest).click()  # type: ignore[union-attr]

    def type(self, text: str) -> None:
        self.wait.until(lambda b: b.execute_script("return document.querySelectorAll('.msg').length > 0"))
        box = self.browser.find_element(By.ID, "text")
        box.send_keys(text)
        self.browser.find_element(By.ID, "send-button").click()


async def test_web_chat_on_a_phone(served: str, backend: Backend, tmp_path: Path) -> None:
    await load_demo_data(backend)
    photo = tmp_path / "me.jpg"
    photo.write_bytes(id_photo_jpeg())
    loop = asyncio.get_running_loop()

    def code() -> str:
        return asyncio.run_coroutine_threadsafe(latest_code(backend, "13900000001"), loop).result(30)

    def chat() -> dict[str, object]:
        browser = phone_browser()
        try:
            page = Page(browser)
            browser.get(f"{served}/")
            page.wait_for("建培助手")
            page.press("常见问题")
            page.press("客服电话")
            page.wait_for("4009999355")
            page.type("我要注册")
            page.wait_for("真实姓名")
            page.type("取消")
            page.wait_for("已取消")
            page.press("看看菜单")
            page.press("常见问题")
            page.press("注册网址")
            page.wait_for("rcgz.mohurd.gov.cn")
            links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, ".msg.bot a")]
            page.press("看看菜单")
            page.press("绑定已有账号")
            page.wait_for("请输入您的手机号")
            page.type("13900000001")
            page.wait_for("验证码已发到 139****0001")
            page.type(code())
            page.wait_for("绑定成功，古林前")
            page.press("上传照片")
            page.wait_for("请直接发一张照片过来")
            browser.find_element(By.ID, "photo").send_keys(str(photo))
            page.wait_for("不可修改")
            page.press("确认提交")
            page.wait_for("照片已上传")
            page.type("我要换证")
            page.press("安全员 吉建培2021000458")
            page.wait_for("证书更新成功")
            downloads = [
                a for a in browser.find_elements(By.CSS_SELECTOR, ".msg.bot a") if a.text == "点击下载"
            ]
            return {
                "pdf_link": downloads[-1].get_attribute("href") if downloads else None,
                "links": links,
                "fits": browser.execute_script(
                    "return document.documentElement.scrollWidth <= window.innerWidth"
                ),
                "title": browser.title,
                "shown_photo": any(
                    "［照片］me.jpg" in e.text for e in browser.find_elements(By.CSS_SELECTOR, ".msg.user")
                ),
            }
        finally:
            browser.quit()

    seen = await asyncio.to_thread(chat)
    assert seen["title"] == "建培助手"
    assert seen["fits"] is True, "nothing wider than the phone's screen"
    assert "http://rcgz.mohurd.gov.cn/" in seen["links"]  # type: ignore[operator]
    assert seen["shown_photo"] is True
    async with httpx.AsyncClient() as http:
        pdf = await http.get(str(seen["pdf_link"]))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    async with backend.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatBinding)) == 1
        assert await session.scalar(select(func.count()).select_from(Photo)) == 1


async def test_sender_id_is_128_random_bits_without_random_uuid(served: str) -> None:
    """A page opened by LAN address over plain HTTP has no crypto.randomUUID; the chat's id (its
    secret) must still be 128 random bits, never Math.random digits."""

    def sender_ids() -> list[str]:
        ids = []
        for _ in range(2):
            browser = phone_browser()
            try:
                browser.execute_cdp_cmd(
                    "Page.addScriptToEvaluateOnNewDocument",
                    {"source": "delete Crypto.prototype.randomUUID;"},
                )
                browser.get(f"{served}/")
                Page(browser).wait_for("建培助手")  # the chat works with the new id
                assert browser.execute_script("return typeof crypto.randomUUID") == "undefined"
                ids.append(str(browser.execute_script("return localStorage.getItem('jianpei-sender')")))
            finally:
                browser.quit()
        return ids

    first, second = await asyncio.to_thread(sender_ids)
    for sender in (first, second):
        assert re.fullmatch(r"web-[0-9a-f]{32}", sender), sender
    assert first != second
