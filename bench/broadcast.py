"""An operator's broadcast to 10,000 Telegram chats: `jianpei scheduler` as its own process sends it
through the fake Bot API server (tests/telegram/fake_api.py), which enforces Telegram's limits (30
messages a second overall, one a second per chat) and answers 429 beyond them. Prints the sustained
messages per second (goal: at least 29), the time from the broadcast's start to its last notice
recorded, the 429s provoked (goal: 0) and the scheduler process's peak memory."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select

from bench._in_thread import in_thread
from bench._server import database, tree_cpu_seconds
from services.notices import broadcasts
from services.notices.manners import CHINA
from storage.db import create_engine, session_factory
from storage.models import Certificate, ChatBinding, HoursRecord, Notice, Person, RegistryAccount
from tests.people import make_id_number, make_phone
from tests.telegram.fake_api import TOKEN, FakeTelegram

CHATS = 10_000
ROOT = Path(__file__).resolve().parents[1]


async def queue_broadcast(url: str, chats: int) -> None:
    """`chats` certificate holders with hours on file (so no reminder competes), each bound to a
    Telegram chat of his own, and a broadcast to all of them starting now."""
    engine = create_engine(url)
    now = datetime.now(UTC)
    async with session_factory(engine)() as session, session.begin():
        people = [{"id_number": make_id_number(), "name": f"学员{n}"} for n in range(chats)]
        persons = list(await session.scalars(insert(Person).returning(Person.id), people))
        await session.execute(
            insert(RegistryAccount),
            [{"person_id": p, "phone": make_phone(), "password_hash": "-"} for p in persons],
        )
        certificate = {
            "position": "安全员",
            "category": "专业人员",
            "status": "正常",
            "issued_on": date(2021, 9, 2),
        }
        certificates = list(
            await session.scalars(
                insert(Certificate).returning(Certificate.id),
                [{"person_id": p, "certificate_number": f"BB{p:08d}", **certificate} for p in persons],
            )
        )
        year = now.astimezone(CHINA).year
        await session.execute(
            insert(HoursRecord),
            [
                {"certificate_id": c, "cycle_year": year, "professional_hours": 22, "general_hours": 10}
                for c in certificates
            ],
        )
        await session.execute(
            insert(ChatBinding),
            [
                {"sender_id": f"telegram:{500_000 + n}", "person_id": p, "bound_at": now}
                for n, p in enumerate(persons)
            ],
        )
        request = broadcasts.BroadcastRequest(text="通知：本周六 8:00-12:00 平台维护，期间暂停学习。")
        await broadcasts.create(session, request, operator="bench", now=now)
    await engine.dispose()


async def open_notices(url: str) -> int:
    engine = create_engine(url)
    try:
        async with session_factory(engine)() as session:
            waiting = Notice.state.in_(["waiting", "claimed"])
            return int(await session.scalar(select(func.count(Notice.id)).where(waiting)) or 0)
    finally:
        await engine.dispose()


def peak_memory_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def run(kind: str, chats: int) -> str:
    with (
        database(kind) as url,
        in_thread(FakeTelegram()) as telegram,
        tempfile.TemporaryDirectory() as data_dir,
    ):
        env = {
            **os.environ,
            "JIANPEI_DATABASE_URL": url,
            "JIANPEI_DATA_DIR": data_dir,
            "JIANPEI_ENV": "test",
            "JIANPEI_NOTICES_QUIET_HOURS": "",  # the bench runs at any hour
            "JIANPEI_NOTICES_EVERY_SECONDS": "1",
            "JIANPEI_TELEGRAM_TOKEN": TOKEN,
            "JIANPEI_TELEGRAM_API_BASE": telegram.base,
        }
        command = [sys.executable, "-m", "bot.cli"]
        subprocess.run([*command, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
        asyncio.run(queue_broadcast(url, chats))
        telegram.fake.enforce_pace = True
        log = Path(data_dir) / "scheduler.log"
        with log.open("wb") as output:
            scheduler = subprocess.Popen(
                [*command, "scheduler"], env=env, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT
            )
        try:
            # Progress is watched at the fake server while the messages go, and the database asked
            # only every half minute: a query every second from this process would hold the
            # interpreter lock the fake's thread needs to note when each message arrived, and its
            # pace check would see bursts that never were.
            asked = time.monotonic()
            while True:
                if scheduler.poll() is not None:
                    said = log.read_text()[-3000:]
                    raise RuntimeError(f"jianpei scheduler ended with {scheduler.returncode}: {said}")
                if len(telegram.fake.sent()) >= chats or time.monotonic() - asked > 30:
                    asked = time.monotonic()
                    if not asyncio.run(open_notices(url)):
                        break
                time.sleep(1)
            memory = peak_memory_mb(scheduler.pid)
            cpu = tree_cpu_seconds(scheduler.pid)
        finally:
            scheduler.terminate()
            scheduler.wait(timeout=60)
        sent = telegram.fake.sent()
        seconds = sent[-1].at - sent[0].at
        return (
            f"{kind:<10} {len(sent)} messages to {chats} chats: {(len(sent) - 1) / seconds:5.1f} messages/s "
            f"sustained, first to last {seconds:.1f} s, 429s provoked {telegram.fake.refused_for_pace}, "
            f"scheduler peak memory {memory:.0f} MB, CPU {cpu:.0f} s "
            f"({cpu / len(sent) * 1000:.1f} ms a message)"
        )


def main() -> None:
    chats = int(os.environ.get("BENCH_BROADCAST_CHATS", CHATS))
    print(
        f"a broadcast to {chats} Telegram chats: one `jianpei scheduler` process, the fake Bot API "
        "enforcing 30 messages/s and 1/s per chat (429 beyond), goal >= 29 messages/s and no 429",
        flush=True,
    )
    for kind in ("sqlite", "postgresql"):
        print(run(kind, chats), flush=True)
