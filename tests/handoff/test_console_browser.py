"""The whole hand-off in Debian's headless Chromium, two browsers at once: a trainee in the web chat
asks for a person, a staff member logs into the console, claims, reads the masked transcript (the
trainee's markup shown as text, never run), replies; the reply shows in the trainee's page without a
reload, the trainee's answer shows in the console without a reload; staff close, and the assistant
answers the trainee's next message."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from bot.app import create_assistant_app
from bot.handoff.accounts import StaffAccounts
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.stories import DEMO_ID
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.assistant.test_web_chat_browser import CHROMEDRIVER, CHROMIUM, Page, phone_browser

MARKUP = "<img src=x onerror=\"document.title='hacked'\"><b>粗</b>"


@pytest.fixture
async def served(backend: Backend, interpreter: Interpreter) -> AsyncIterator[str]:
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    await StaffAccounts(backend.engine).add(
        login="wangfang", name="王芳", role="agent", password="desk-password-1", now=backend.now()
    )
    async with uvicorn_serving(app) as base:
        yield base


def desktop_browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1280,900")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Console:
    def __init__(self, browser: webdriver.Chrome) -> None:
        self.browser = browser
        self.wait = WebDriverWait(browser, 60)

    def lines(self, by: str) -> list[str]:
        """Read in one go: the console redraws the transcript whenever something changes."""
        script = "return Array.from(document.querySelectorAll(arguments[0]), e => e.innerText)"
        return list(self.browser.execute_script(script, f"#transcript .line.{by}"))

    def wait_for_line(self, by: str, text: str) -> None:
        self.wait.until(lambda _b: any(text in line for line in self.lines(by)))

    def click(self, element_id: str) -> None:
        self.wait.until(lambda b: b.find_element(By.ID, element_id).is_displayed())
        self.browser.find_element(By.ID, element_id).click()

    def fill(self, element_id: str, text: str) -> None:
        box = self.browser.find_element(By.ID, element_id)
        box.clear()
        box.send_keys(text)


async def test_a_person_takes_the_chat_over_and_gives_it_back(served: str) -> None:
    def hand_off() -> dict[str, object]:
        trainee_browser, staff_browser = phone_browser(), desktop_browser()
        try:
            chat = Page(trainee_browser)
            trainee_browser.get(f"{served}/")
            chat.wait_for("建培助手")
            chat.type(f"我的身份证{DEMO_ID}登不上")
            chat.wait.until(lambda _b: len(chat.bot_texts()) >= 2)
            chat.type("转人工")
            chat.wait_for("您排在第一位")
            chat.type(MARKUP)
            chat.wait.until(lambda _b: sum("请求已记下" in t for t in chat.bot_texts()) >= 2)

            desk = Console(staff_browser)
            staff_browser.get(f"{served}/staff")
            desk.wait.until(lambda b: b.find_element(By.ID, "login").is_displayed())
            desk.fill("login", "wangfang")
            desk.fill("password", "desk-password-1")
            desk.click("login-button")
            desk.wait.until(lambda b: b.find_elements(By.CSS_SELECTOR, ".queue-item[data-id]"))
            waiting = staff_browser.execute_script(
                "return document.querySelector('.queue-item[data-id]').innerText"
            )
            staff_browser.execute_script("document.querySelector('.queue-item[data-id]').click()")
            desk.click("claim")
            desk.wait.until(lambda b: b.find_element(By.ID, "reply-text").is_displayed())
            desk.wait_for_line("trainee", "220102********0319")
            transcript = staff_browser.execute_script(
                "return document.getElementById('transcript').innerText"
            )
            desk.fill("reply-text", "您好，我是王芳，我来帮您看看")
            desk.click("reply-button")

            chat.wait_for("我来帮您看看")  # pushed into the open page, no reload
            chat.type("好的，谢谢")
            desk.wait_for_line("trainee", "好的，谢谢")  # shown in the console, no reload
            desk.fill("close-note", "已指导重置密码")
            desk.click("close-button")
            chat.wait_for("人工客服已结束本次服务")
            chat.type("我要注册")
            chat.wait_for("真实姓名")  # the assistant again
            return {
                "waiting": waiting,
                "transcript": transcript,
                "title": staff_browser.title,
                "images": len(staff_browser.find_elements(By.CSS_SELECTOR, "#transcript img")),
                "bold": len(staff_browser.find_elements(By.CSS_SELECTOR, "#transcript b")),
            }
        finally:
            trainee_browser.quit()
            staff_browser.quit()

    seen = await asyncio.to_thread(hand_off)
    waiting, transcript = str(seen["waiting"]), str(seen["transcript"])
    assert "排队中" in waiting and "等待" in waiting
    assert DEMO_ID not in transcript and "220102********0319" in transcript
    assert MARKUP in transcript  # the trainee's markup is shown as the text he typed
    assert seen["title"] == "建培客服台" and seen["images"] == 0 and seen["bold"] == 0
