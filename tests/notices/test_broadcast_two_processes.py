"""Two `jianpei scheduler` processes started together on one PostgreSQL database (the deployment with
several processes): the one holding the leader lock sends a broadcast to Telegram chats while the
other waits; SIGKILLed mid-send, its lock goes with its connection and the other sends the rest. Each
chat gets the broadcast once; only the killed process's batch in flight may be unknown, never resent."""

from __future__ import annotations

import shutil
import signal
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from nlu import Interpreter
from services.notices import broadcasts
from storage.db import session_factory
from storage.models import Certificate, ChatBinding, Notice, Person
from tests.assistant.conftest import interpreter, nlu_data_dir  # noqa: F401
from tests.notices.test_broadcast_kill import BATCH, engine, start_scheduler, until  # noqa: F401
from tests.people import make_id_number
from tests.telegram.fake_api import FakeTelegram
from tests.wechat.fake_api import FakeWechat

CHATS = 200
KILL_AFTER = 50  # messages received before the leader is killed
TEXT = "平台本周六维护"


async def telegram_recipients(engine: AsyncEngine) -> dict[int, str]:  # noqa: F811
    """`CHATS` certificate holders reachable only in a Telegram chat of their own (no account, so no
    reminder goes out beside the broadcast), and the broadcast to them. Person id -> conversation."""
    async with session_factory(engine)() as session, session.begin():
        persons = list(
            await session.scalars(
                insert(Person).returning(Person.id, sort_by_parameter_order=True),
                [{"id_number": make_id_number(), "name": f"学员{n}"} for n in range(CHATS)],
            )
        )
        await session.execute(
            insert(Certificate),
            [
                {
                    "person_id": p,
                    "certificate_number": f"TP{p:08d}",
                    "position": "安全员",
                    "category": "专业人员",
                    "status": "正常",
                    "issued_on": date(2021, 9, 2),
                }
                for p in persons
            ],
        )
        now = datetime.now(UTC)
        chats = {p: f"telegram:{50_000 + n}" for n, p in enumerate(persons)}
        await session.execute(
            insert(ChatBinding), [{"sender_id": c, "person_id": p, "bound_at": now} for p, c in chats.items()]
        )
        await broadcasts.create(session, broadcasts.BroadcastRequest(text=TEXT), operator="test", now=now)
    return chats


async def test_two_scheduler_processes_one_killed_mid_broadcast_the_other_sends_the_rest_once(
    engine: AsyncEngine,  # noqa: F811
    interpreter: Interpreter,  # noqa: F811 (trains the NLU model the processes load)
    nlu_data_dir: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    shutil.copytree(nlu_data_dir / "models", tmp_path / "models")
    telegram, wechat = FakeTelegram(), FakeWechat()
    await telegram.start()
    await wechat.start()
    sessions = session_factory(engine)
    logs = {name: tmp_path / f"{name}.log" for name in ("one", "two")}
    processes = {
        name: start_scheduler(engine, tmp_path, telegram.base, wechat.base, log) for name, log in logs.items()
    }
    chats = await telegram_recipients(engine)  # queued while the processes start, as an operator would

    def leading() -> list[str]:
        return [name for name, log in logs.items() if "scheduler_elected" in log.read_text()]

    async def sending() -> bool:
        return len(telegram.sent()) >= KILL_AFTER

    async def finished() -> bool:
        async with sessions() as session:
            waiting = Notice.state.in_(["waiting", "claimed"])
            return not await session.scalar(select(func.count(Notice.id)).where(waiting))

    try:
        await until(sending, logs["one"], within=120)
        assert len(leading()) == 1, "one process leads, the other waits"
        killed = leading()[0]
        (standby,) = set(logs) - {killed}
        processes[killed].send_signal(signal.SIGKILL)
        processes[killed].wait()
        at_kill = len(telegram.sent())
        assert at_kill < CHATS, "killed mid-send"
        await until(finished, logs[standby], within=120)
    finally:
        for process in processes.values():
            process.kill()  # the standby's graceful stop is not what is tested here
            process.wait()
        await telegram.stop()
        await wechat.stop()

    assert leading() == sorted([killed, standby]), "the standby took the lock over"
    got = Counter(f"telegram:{call.chat_id}" for call in telegram.sent())
    assert all(TEXT in call.fields["text"] for call in telegram.sent())
    async with sessions() as session:
        final = list(await session.scalars(select(Notice)))
    states = Counter(n.state for n in final)
    assert set(states) <= {"sent", "unknown"} and states["unknown"] <= BATCH, states
    assert all(got[chats[n.person_id]] == 1 for n in final if n.state == "sent"), "each sent one arrived once"
    assert all(got[chats[n.person_id]] <= 1 for n in final if n.state == "unknown"), "never resent"
    assert len(final) == CHATS and max(got.values()) == 1
    assert len(telegram.sent()) - at_kill >= CHATS - at_kill - BATCH, "the standby sent the rest"
