"""On PostgreSQL a turn waits for the sender's advisory lock, so assistants in several processes never
work on one conversation at once. Another process mid-turn is played by a connection holding it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.runtime.locks import DatabaseLocks
from bot.runtime.store import lock_key
from services.context import Backend
from services.settings import Settings
from services.sms.gateway import OutboxGateway
from storage import migrate
from storage.db import create_engine, session_factory
from tests.assistant.conftest import Chat
from tests.conftest import FakeClock
from tests.postgres import create_database, drop_database


@pytest.fixture
async def pg_backend(postgres_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Backend]:
    name = f"jianpei_lock_{uuid.uuid4().hex[:8]}"
    engine = create_engine(await create_database(postgres_url, name))
    await migrate.upgrade(engine)
    settings = Settings(env="test", data_dir=tmp_path / "var", secret_key="test-secret", _env_file=None)  # type: ignore[call-arg]
    yield Backend(
        settings=settings, engine=engine, sessions=session_factory(engine), clock=clock, sms=OutboxGateway()
    )
    await engine.dispose()
    await drop_database(postgres_url, name)


async def waiting_for_advisory_lock(backend: Backend) -> int:
    async with backend.engine.connect() as conn:
        found = await conn.scalar(
            text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        )
    return int(found or 0)


@pytest.fixture
def backend(pg_backend: Backend) -> Backend:
    """The chat fixtures of this folder, on this test's own PostgreSQL database."""
    return pg_backend


async def test_a_turn_waits_while_another_process_holds_the_conversation(
    backend: Backend, chat: Chat
) -> None:
    other = await backend.engine.connect()
    holding = await other.begin()
    await other.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(chat.conversation_id)})
    turn = asyncio.create_task(chat.text("/contact_support"))
    # Each look at pg_locks awaits the database, which lets the turn run on until it queues for the lock.
    for _attempt in range(20_000):
        if await waiting_for_advisory_lock(backend):
            break
    assert await waiting_for_advisory_lock(backend) == 1
    assert not turn.done()
    await holding.commit()
    await other.close()
    assert "4009999355" in await turn


async def held_advisory_locks(backend: Backend) -> int:
    async with backend.engine.connect() as conn:
        found = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        )
    return int(found or 0)


async def test_a_sender_locked_by_one_process_waits_in_another_until_freed(backend: Backend) -> None:
    """Two processes' lock lines are two database sessions: the second queues until the first frees."""
    ours, theirs = DatabaseLocks(backend.engine), DatabaseLocks(backend.engine)
    order: list[str] = []

    async def second() -> None:
        async with theirs.holding(lock_key("rest:both")):
            order.append("second")

    async with ours.holding(lock_key("rest:both")):
        waiting = asyncio.create_task(second())
        for _attempt in range(20_000):
            if await waiting_for_advisory_lock(backend):
                break
        assert await waiting_for_advisory_lock(backend) == 1
        order.append("first")
    await waiting
    assert order == ["first", "second"]
    assert await held_advisory_locks(backend) == 0


async def test_many_senders_locked_at_once_are_all_held_then_all_freed(backend: Backend) -> None:
    locks = DatabaseLocks(backend.engine)
    inside, all_in = asyncio.Event(), asyncio.Event()
    entered: list[int] = []

    async def turn(number: int) -> None:
        async with locks.holding(lock_key(f"rest:many-{number}")):
            entered.append(number)
            if len(entered) == 50:
                all_in.set()
            await inside.wait()

    turns = [asyncio.create_task(turn(number)) for number in range(50)]
    await all_in.wait()
    assert await held_advisory_locks(backend) == 50
    inside.set()
    await asyncio.gather(*turns)
    assert await held_advisory_locks(backend) == 0
