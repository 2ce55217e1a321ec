"""The web player in Debian's headless Chromium: a trainee opens the assistant's link on a phone-sized
screen and a short course plays to completion, credited by the server from real heartbeats."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
import uvicorn
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from services.app import create_app
from services.auth import hash_password
from services.clock import system_clock
from services.context import Backend
from services.learning import accounts, enrolment
from services.learning.catalog import DEMO_CATALOG
from services.learning.links import player_link
from services.settings import Settings
from services.sms.gateway import OutboxGateway
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import Certificate, EnrolmentCourse, LearningAccount, Person
from tests.learning.conftest import load_catalog
from tests.people import make_id_number

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


@dataclass
class Served:
    backend: Backend
    base_url: str


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """The backend on a real port, on the real clock (the video plays in real time), SQLite."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    port = int(listener.getsockname()[1])
    settings = Settings(
        env="test",
        data_dir=tmp_path / "var",
        secret_key="browser-test-secret",
        public_url=f"http://127.0.0.1:{port}",
        learning_heartbeat_seconds=1,
        _env_file=None,  # type: ignore[call-arg]
    )
    engine = create_engine(settings.resolved_database_url)
    await migrate.upgrade(engine)
    backend = Backend(
        settings=settings,
        engine=engine,
        sessions=session_factory(engine),
        clock=system_clock,
        sms=OutboxGateway(),
    )
    server = uvicorn.Server(
        uvicorn.Config(create_app(backend), host="127.0.0.1", port=port, log_level="warning")
    )
    # The socket already listens, so the browser's first request waits in its backlog, never refused.
    task = asyncio.create_task(server.serve(sockets=[listener]))
    yield Served(backend=backend, base_url=f"http://127.0.0.1:{port}")
    server.should_exit = True
    await task
    listener.close()


def phone_browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--autoplay-policy=no-user-gesture-required",
        "--window-size=390,844",
    ):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


async def enrolled_trainee(backend: Backend) -> tuple[int, int]:
    """A trainee with a platform account and a 2026 order of the demo 机械员 package."""
    await load_catalog(backend, DEMO_CATALOG)
    phone = "13700000001"
    async with backend.transaction() as session:
        person = Person(id_number=make_id_number(), name="净月潭")
        session.add(person)
        await session.flush()
        session.add(
            Certificate(
                person_id=person.id,
                certificate_number="500001",
                position="机械员",
                category="专业人员",
                status="非正常",
                remark="未按要求完成继续教育",
                issued_on=date(2019, 6, 18),
            )
        )
        session.add(
            LearningAccount(person_id=person.id, phone=phone, password_hash=await hash_password(phone))
        )
        person_id = person.id
    async with backend.transaction() as session:
        account = await enrolment.account_of(session, person_id)
        await accounts.pull_certificates(session, account, now=backend.now())
    order = await enrolment.enrol(
        backend,
        person_id=person_id,
        certificate_number="500001",
        cycle_year=backend.now().year,
        package_code="PKG-JX",
    )
    return person_id, order.id


async def test_a_course_plays_to_completion_in_chromium(served: Served) -> None:
    backend = served.backend
    person_id, enrolment_id = await enrolled_trainee(backend)
    url, _ = player_link(backend.settings, person_id=person_id, enrolment_id=enrolment_id, now=backend.now())

    def play() -> tuple[str | None, str, str]:
        browser = phone_browser()
        try:
            browser.get(url)
            wait = WebDriverWait(browser, 60)
            # The first course of the order starts by itself, with no seek bar.
            wait.until(lambda b: b.find_element(By.ID, "course-title").text == "施工机械设备管理")
            controls = browser.find_element(By.ID, "video").get_attribute("controls")
            # It plays through; the page marks it done and moves on to the next course.
            wait.until(lambda b: b.find_element(By.ID, "course-title").text == "施工现场安全管理实务")
            first = browser.find_element(By.CSS_SELECTOR, "#course-list li[data-seq='1']").text
            progress = browser.find_element(By.ID, "order-progress").text
            return controls, first, progress
        finally:
            browser.quit()

    controls, first, progress = await asyncio.to_thread(play)
    assert controls is None
    assert "已学完" in first
    assert "已学完 1/5 门课" in progress
    async with backend.sessions() as session:
        course = await session.scalar(
            select(EnrolmentCourse).where(
                EnrolmentCourse.enrolment_id == enrolment_id, EnrolmentCourse.seq == 1
            )
        )
    assert course is not None and course.completed_at is not None
    assert course.credited_seconds == course.duration_seconds == 6
    await backend.engine.dispose()
