"""The Telegram channel against the fake Bot API server (tests/telegram/fake_api.py) on 127.0.0.1:

- update -> reply latency through the webhook of one `jianpei serve` process: 50 chats at once, each
  sending 4 messages one after another (the reply includes the wait for Telegram's one message a
  second per chat), on SQLite and PostgreSQL;
- messages per second sent to 1,000 chats by the paced sender, with the fake server enforcing
  Telegram's limits (the sender should hold its 29.5/s and provoke no 429)."""

from __future__ import annotations

import asyncio
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from aiogram.methods import SendMessage

from bench._in_thread import in_thread
from bench._server import Figures, database, serving
from bot.channels.telegram.channel import make_bot
from bot.channels.telegram.sender import Sender
from bot.settings import AssistantSettings
from storage import migrate
from storage.db import create_engine, session_factory
from tests.telegram.fake_api import TOKEN, FakeTelegram, Updates

SECRET = "bench-secret"  # noqa: S105 (the fake server's)
CHATS = 50
SCRIPT = ("/start", "/contact_support", "能快进吗", "/faq_hours")
BROADCAST_CHATS = 1000


async def latency(fake: FakeTelegram, base: str, kind: str) -> Figures:
    latencies: list[float] = []
    headers = {"X-Telegram-Bot-Api-Secret-Token": SECRET}

    async def chat(number: int) -> None:
        chat_id = 100_000 + number
        updates = Updates(fake, chat_id)
        async with httpx.AsyncClient(base_url=base, timeout=120) as http:
            for text in SCRIPT:
                before = len(fake.sent(chat_id))
                started = time.perf_counter()
                answer = await http.post("/webhooks/telegram", json=updates.text(text), headers=headers)
                if answer.status_code != 200:
                    raise RuntimeError(f"{answer.status_code} {answer.text}")
                await fake.wait_for(lambda seen=before: len(fake.sent(chat_id)) > seen, within=120)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(chat(n) for n in range(CHATS)))
    return Figures(f"update -> reply ({kind})", len(latencies), time.perf_counter() - started, latencies)


async def broadcast(fake: FakeTelegram) -> tuple[int, float]:
    """1,000 chats, one message each, through the sender of the channel (what a notice run does)."""

    fake.enforce_pace = True
    with tempfile.TemporaryDirectory(prefix="jianpei-bench-") as folder:
        engine = create_engine(f"sqlite+aiosqlite:///{Path(folder) / 'tg.sqlite3'}")
        await migrate.upgrade(engine)
        bot = make_bot(TOKEN, fake.base)
        rate = AssistantSettings().telegram_rate  # the pace a deployment keeps by default
        sender = Sender(bot, session_factory(engine), lambda: datetime.now(UTC), per_second=rate)
        started = time.perf_counter()
        await asyncio.gather(
            *(
                sender.call(str(chat), SendMessage(chat_id=chat, text="您的继续教育已完成"))
                for chat in range(200_000, 200_000 + BROADCAST_CHATS)
            )
        )
        seconds = time.perf_counter() - started
        await bot.session.close()
        await engine.dispose()
    return fake.refused_for_pace, seconds


def main() -> None:
    print(
        f"{CHATS} Telegram chats x {len(SCRIPT)} messages through POST /webhooks/telegram of one "
        "`jianpei serve` process; latency = update posted -> first reply at the fake Bot API"
    )
    for kind in ("sqlite", "postgresql"):
        with database(kind) as url, in_thread(FakeTelegram()) as telegram:
            env = {
                "JIANPEI_TELEGRAM_TOKEN": TOKEN,
                "JIANPEI_TELEGRAM_WEBHOOK_SECRET": SECRET,
                "JIANPEI_TELEGRAM_API_BASE": telegram.base,
            }
            with serving(url, **env) as base:
                print(telegram.run(latency(telegram.fake, base, kind)).line(), flush=True)
    with in_thread(FakeTelegram()) as telegram:
        refused, seconds = telegram.run(broadcast(telegram.fake))
        print(
            f"sent to {BROADCAST_CHATS} chats: {BROADCAST_CHATS / seconds:.1f} messages/s "
            f"in {seconds:.1f} s, refused by the enforced pace (429): {refused}",
            flush=True,
        )
