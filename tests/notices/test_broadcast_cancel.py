"""A broadcast to Telegram chats at Telegram's pace: each delivery records the message ids Telegram
gave, and cancelling it stops the sends within a second (counted in sends, at 30 a second)."""

from __future__ import annotations

import asyncio

import httpx
from sqlalchemy import select

from bot.app import create_assistant_app
from nlu import Interpreter
from services.context import Backend
from storage.models import ChatBinding, Person
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.conftest import FakeClock
from tests.notices.conftest import china, notices, scheduler_of
from tests.notices.test_broadcasts import ADMIN, people
from tests.telegram.conftest import fake, telegram_settings  # noqa: F401
from tests.telegram.fake_api import FakeTelegram

RATE = 30  # Telegram's messages a second over all chats
PEOPLE = 150  # five seconds of sending at that rate


async def bind_to_telegram(backend: Backend) -> dict[int, str]:
    """Every person gets a Telegram chat of his own; person id -> conversation id."""
    async with backend.transaction() as session:
        persons = list(await session.scalars(select(Person.id).order_by(Person.id)))
        chats = {person_id: f"telegram:{30_000 + number}" for number, person_id in enumerate(persons)}
        for person_id, chat in chats.items():
            session.add(ChatBinding(sender_id=chat, person_id=person_id, bound_at=backend.now()))
    return chats


async def test_cancelling_a_broadcast_stops_its_sends_within_a_second_and_sent_ones_stay_traceable(
    backend: Backend,
    interpreter: Interpreter,
    clock: FakeClock,
    fake: FakeTelegram,  # noqa: F811
) -> None:
    clock.current = china(2026, 6, 3, 10)
    await people(backend, PEOPLE)
    chats = await bind_to_telegram(backend)
    fake.enforce_pace = True
    settings = telegram_settings(fake, scheduler="off", telegram_rate=RATE, telegram_chat_rate=1.0)
    app = create_assistant_app(backend, settings, interpreter)
    async with uvicorn_serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        made = await http.post("/api/admin/broadcasts", json={"text": "本周六平台维护"}, headers=ADMIN)
        assert made.status_code == 201, made.text
        scheduler = scheduler_of(app)
        scheduler.batch = 100  # many more held than a second's sends
        sending = asyncio.create_task(scheduler.tick())
        try:
            await fake.wait_for(lambda: len(fake.sent()) >= RATE)
            cancelled = await http.post(f"/api/admin/broadcasts/{made.json()['id']}/cancel", headers=ADMIN)
            at_cancel = len(fake.sent())
            assert cancelled.status_code == 200 and cancelled.json()["cancelled"] is True
            await sending
        finally:
            await scheduler.stop()
            await app.state.telegram.stop()
        status = (await http.get(f"/api/admin/broadcasts/{made.json()['id']}", headers=ADMIN)).json()
    sent_after_cancel = len(fake.sent()) - at_cancel
    assert sent_after_cancel <= RATE, f"{sent_after_cancel} messages went out after the cancel returned"
    assert fake.refused_for_pace == 0
    counts = status["counts"]
    assert counts["sent"] == len(fake.sent()) < PEOPLE
    assert counts["sent"] + counts["cancelled"] == PEOPLE and status["finished"] == PEOPLE
    sent = [n for n in await notices(backend) if n.state == "sent"]
    traced = [(n.message_ids or [""])[0] for n in sent]
    assert [t.rpartition("/")[0] for t in traced] == [chats[n.person_id] for n in sent]
    assert sorted(int(t.rpartition("/")[2]) for t in traced) == sorted(
        {int(t.rpartition("/")[2]) for t in traced}
    ), "one Telegram message id per delivery"
