"""kill -9 in the middle of a turn: `jianpei serve` runs as a real process, polling the fake Bot API
for updates; it is killed with SIGKILL while the replies of three chats hang on their way out, and
started again. Every update it took in is answered exactly once, and no turn runs twice."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from nlu import Interpreter
from services.settings import Settings
from storage import migrate
from storage.db import create_engine
from storage.models import ConversationEvent
from tests.assistant.test_action_server import free_port
from tests.assistant.test_serve_process import JIANPEI, environment
from tests.served import until_healthy
from tests.telegram.fake_api import TOKEN, FakeTelegram, Updates

CHATS = (6001, 6002, 6003)
LEASE = "3"  # seconds before a dead worker's updates are taken up again


@pytest.fixture
async def data_dir(tmp_path: Path, nlu_data_dir: Path, interpreter: Interpreter) -> Path:
    """A fresh data directory with the run's NLU model and its database migrated, as `jianpei db
    upgrade` leaves it (done here: a process of its own would only add seconds of imports)."""
    fresh = tmp_path / "var"
    fresh.mkdir()
    (fresh / "models").symlink_to(nlu_data_dir / "models", target_is_directory=True)
    assert interpreter.version
    engine = create_engine(Settings(data_dir=fresh, _env_file=None).resolved_database_url)  # type: ignore[call-arg]
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    return fresh


@asynccontextmanager
async def polling_server(data_dir: Path, fake: FakeTelegram) -> AsyncIterator[asyncio.subprocess.Process]:
    """`jianpei serve` taking Telegram updates by long polling from the fake Bot API."""
    port = free_port()
    env = {
        **environment(data_dir),
        "JIANPEI_TELEGRAM_TOKEN": TOKEN,
        "JIANPEI_TELEGRAM_API_BASE": fake.base,
        "JIANPEI_TELEGRAM_MODE": "polling",
        "JIANPEI_TELEGRAM_LEASE_SECONDS": LEASE,
        "JIANPEI_TELEGRAM_RATE": "1000",
        "JIANPEI_TELEGRAM_CHAT_RATE": "1000",
        "JIANPEI_SCHEDULER": "off",
    }
    with (data_dir.parent / "serve.log").open("a") as log:
        process = await asyncio.create_subprocess_exec(
            *(str(JIANPEI), "serve", "--port", str(port)),
            cwd=data_dir.parent,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        await until_healthy(f"http://127.0.0.1:{port}", process)
        yield process
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()


def greetings(fake: FakeTelegram, chat: int) -> int:
    """Greetings Telegram confirmed in `chat` (a call left hanging by the killed process is not one)."""
    return sum("建培助手" in text for text in fake.texts(chat))


async def user_turns(data_dir: Path) -> dict[str, int]:
    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    engine = create_async_engine(settings.resolved_database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                select(ConversationEvent.sender_id, func.count())
                .where(ConversationEvent.type_name == "user")
                .group_by(ConversationEvent.sender_id)
            )
            return {str(sender): int(count) for sender, count in rows}
    finally:
        await engine.dispose()


async def test_killed_mid_turn_every_update_is_answered_exactly_once_after_a_restart(
    data_dir: Path, fake: FakeTelegram
) -> None:
    fake.fail("sendMessage", 0, times=len(CHATS))  # the replies go out and their answers never come
    async with polling_server(data_dir, fake) as first:
        for chat in CHATS:
            await fake.push(Updates(fake, chat).text("/start"))
        hanging = {str(chat) for chat in CHATS}
        await fake.wait_for(
            lambda: hanging <= {c.chat_id for c in fake.calls if c.method == "sendMessage"}, within=120
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
    assert all(greetings(fake, chat) == 0 for chat in CHATS)

    async with polling_server(data_dir, fake):
        await fake.wait_for(lambda: all(greetings(fake, chat) >= 1 for chat in CHATS), within=120)
        late = 6004  # and the restarted server goes on taking new updates
        await fake.push(Updates(fake, late).text("/start"))
        await fake.wait_for(lambda: greetings(fake, late) >= 1, within=120)
    assert {chat: greetings(fake, chat) for chat in (*CHATS, late)} == {chat: 1 for chat in (*CHATS, late)}
    assert await user_turns(data_dir) == {f"telegram:{chat}": 1 for chat in (*CHATS, late)}
