"""A broadcast to 2,000 people survives `kill -9` of the process sending it: `jianpei scheduler` runs
as a real process against PostgreSQL (the deployment with several processes), the fake Telegram and
WeChat servers of this test and the SMS outbox; it is SIGKILLed mid-send and started again. Every
recipient gets the broadcast once; only the notices in flight at the kill may be unknown (never
resent), and those recipients got it at most once."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nlu import Interpreter
from services.notices import broadcasts
from services.notices.manners import CHINA
from storage import migrate
from storage.db import create_engine, session_factory
from storage.models import (
    Certificate,
    ChatBinding,
    HoursRecord,
    Notice,
    Person,
    RegistryAccount,
    SmsMessage,
)
from tests.assistant.conftest import interpreter, nlu_data_dir  # noqa: F401
from tests.people import make_id_number, make_phone
from tests.postgres import create_database, drop_database
from tests.telegram.fake_api import TOKEN, FakeTelegram
from tests.wechat.fake_api import APP_ID, APP_SECRET, FakeWechat

ROOT = Path(__file__).resolve().parents[2]
TELEGRAM, WECHAT, SMS_ONLY = 1000, 500, 500  # 2,000 recipients
BATCH = 25  # notices the scheduler holds at a time: the most a kill can leave unknown
KILL_AFTER = 600  # messages received before the kill


@pytest.fixture
async def engine(postgres_url: str) -> AsyncIterator[AsyncEngine]:
    name = f"jianpei_kill_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    url = await create_database(postgres_url, name)
    made = create_engine(url)
    await migrate.upgrade(made)
    yield made
    await made.dispose()
    await drop_database(postgres_url, name)


async def recipients(engine: AsyncEngine) -> tuple[dict[int, str], dict[int, str]]:
    """2,000 certificate holders, each with an account (a phone); the first 1,000 bound to a
    Telegram chat, the next 500 to a WeChat follower. Person id -> conversation, person id -> phone."""
    total = TELEGRAM + WECHAT + SMS_ONLY
    async with session_factory(engine)() as session, session.begin():
        persons = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"id_number": make_id_number(), "name": f"学员{n}"} for n in range(total)],
            )
        )
        phones = {person_id: make_phone() for person_id in persons}
        now = datetime.now(UTC)
        await session.execute(
            insert(RegistryAccount),
            [{"person_id": p, "phone": phone, "password_hash": "-"} for p, phone in phones.items()],
        )
        certificates = await session.scalars(
            insert(Certificate).returning(Certificate.id),
            [
                {
                    "person_id": p,
                    "certificate_number": f"KL{p:08d}",
                    "position": "安全员",
                    "category": "专业人员",
                    "status": "非正常",
                    "issued_on": date(2021, 9, 2),
                }
                for p in persons
            ],
        )
        this_year = now.astimezone(CHINA).year  # hours on file: no cycle-end reminder goes with it
        await session.execute(
            insert(HoursRecord),
            [
                {"certificate_id": c, "cycle_year": this_year, "professional_hours": 22, "general_hours": 10}
                for c in list(certificates)
            ],
        )
        chats = {p: f"telegram:{40_000 + n}" for n, p in enumerate(persons[:TELEGRAM])}
        chats |= {p: f"wechat:wx-open-{n}" for n, p in enumerate(persons[TELEGRAM : TELEGRAM + WECHAT])}
        await session.execute(
            insert(ChatBinding), [{"sender_id": c, "person_id": p, "bound_at": now} for p, c in chats.items()]
        )
        await broadcasts.create(
            session, broadcasts.BroadcastRequest(text="平台本周六维护"), operator="test", now=now
        )
    return chats, phones


def start_scheduler(
    engine: AsyncEngine, data_dir: Path, telegram: str, wechat: str, log: Path
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(data_dir),
        "JIANPEI_ENV": "test",
        "JIANPEI_SECRET_KEY": "kill-test-secret",
        "JIANPEI_NOTICES_QUIET_HOURS": "",  # the process runs on the wall clock, at any hour
        "JIANPEI_NOTICES_EVERY_SECONDS": "0.5",
        "JIANPEI_NOTICES_BATCH": str(BATCH),
        "JIANPEI_NOTICES_LEASE_SECONDS": "5",
        "JIANPEI_TELEGRAM_TOKEN": TOKEN,
        "JIANPEI_TELEGRAM_API_BASE": telegram,
        "JIANPEI_TELEGRAM_RATE": "300",
        "JIANPEI_WECHAT_RATE": "300",
        "JIANPEI_SMS_RATE": "300",
        "JIANPEI_WECHAT_APP_ID": APP_ID,
        "JIANPEI_WECHAT_APP_SECRET": APP_SECRET,
        "JIANPEI_WECHAT_TOKEN": "kill-test-token",
        "JIANPEI_WECHAT_API_BASE": wechat,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )


async def until(check: Callable[[], Awaitable[bool]], log: Path, within: float = 300) -> None:
    """Poll `check` until it holds (a process's progress, seen from outside)."""
    try:
        async with asyncio.timeout(within):
            while not await check():  # noqa: ASYNC110 (another process's progress)
                await asyncio.sleep(0.2)
    except TimeoutError:
        said = log.read_text()[-3000:]  # noqa: ASYNC240 (a failing test's last words)
        raise AssertionError(f"{check.__name__}: not within {within} s; the process said: {said}") from None


async def test_kill_9_mid_broadcast_then_restart_sends_each_recipient_the_broadcast_once(
    engine: AsyncEngine,
    interpreter: Interpreter,  # noqa: F811 (trains the NLU model the process loads)
    nlu_data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    chats, phones = await recipients(engine)
    shutil.copytree(nlu_data_dir / "models", tmp_path / "models")
    telegram, wechat = FakeTelegram(), FakeWechat()
    await telegram.start()
    await wechat.start()
    sessions = session_factory(engine)

    async def sms_phones() -> list[str]:
        async with sessions() as session:
            query = select(SmsMessage.phone).where(SmsMessage.kind == "notice_broadcast")
            return list(await session.scalars(query))

    async def received() -> int:
        return len(telegram.sent()) + len(wechat.sent()) + len(await sms_phones())

    async def sent_enough() -> bool:
        return await received() >= KILL_AFTER

    async def finished() -> bool:
        async with sessions() as session:
            waiting = Notice.state.in_(["waiting", "claimed"])
            return not await session.scalar(select(func.count(Notice.id)).where(waiting))

    first = start_scheduler(engine, tmp_path, telegram.base, wechat.base, tmp_path / "first.log")
    try:
        await until(sent_enough, tmp_path / "first.log")
        first.send_signal(signal.SIGKILL)
        first.wait()
        at_kill = await received()
        assert at_kill < TELEGRAM + WECHAT + SMS_ONLY, "killed mid-send"
        second = start_scheduler(engine, tmp_path, telegram.base, wechat.base, tmp_path / "second.log")
        try:
            await until(finished, tmp_path / "second.log")
        finally:
            second.terminate()
            second.wait(timeout=60)
    finally:
        if first.poll() is None:
            first.kill()
        await telegram.stop()
        await wechat.stop()

    got = Counter(f"telegram:{c.chat_id}" for c in telegram.sent())
    got |= Counter(f"wechat:{c.openid}" for c in wechat.sent())
    by_phone = Counter(await sms_phones())
    async with sessions() as session:
        final = list(await session.scalars(select(Notice)))
    states = Counter(n.state for n in final)
    assert {n.kind for n in final} == {"broadcast"}
    assert set(states) <= {"sent", "unknown"} and states["unknown"] <= BATCH, states

    def times(notice: Notice) -> int:
        chat = chats.get(notice.person_id)
        return got[chat] if chat is not None else by_phone[phones[notice.person_id]]

    assert all(times(n) == 1 for n in final if n.state == "sent"), "every sent notice arrived once"
    assert all(times(n) <= 1 for n in final if n.state == "unknown"), "in flight at the kill: never twice"
    assert max([*got.values(), *by_phone.values()]) == 1
    assert sum(got.values()) + sum(by_phone.values()) == states["sent"] + sum(
        times(n) for n in final if n.state == "unknown"
    )
    telegram_sent = [
        n for n in final if n.state == "sent" and chats.get(n.person_id, "").startswith("telegram:")
    ]
    assert all((n.message_ids or [""])[0].startswith(f"{chats[n.person_id]}/") for n in telegram_sent), (
        "each Telegram delivery names its message"
    )
