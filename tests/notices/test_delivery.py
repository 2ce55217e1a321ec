"""Notices delivered by the scheduler over real HTTP, on the movable clock: to an open web chat,
by SMS to a person with no chat, never at night, never twice, and not to whoever opted out."""

from __future__ import annotations

import asyncio
import json

import httpx
from fastapi import FastAPI

from services.context import Backend
from services.learning.completion import COMPLETION_SMS, review_if_ready
from tests.conftest import FakeClock
from tests.documents.enrolments import enrolment
from tests.documents.trainees import add_certificate, registered
from tests.notices.conftest import (
    bind,
    china,
    count_sms,
    notices,
    registered_at,
    scheduler_of,
    service,
    texts_to,
)

STOP = "回复“退订提醒”不再接收提醒"


async def stream(http: httpx.AsyncClient, sender: str, count: int) -> list[dict[str, object]]:
    """The first `count` pushes an open web page of the chat receives."""
    found: list[dict[str, object]] = []
    async with http.stream("POST", "/webhooks/rest/stream", json={"sender": sender, "after": 0}) as events:
        assert events.status_code == 200
        async for line in events.aiter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
                if len(found) == count:
                    break
    return found


async def complete(backend: Backend, person_id: int, number: str) -> None:
    done = await enrolment(backend, person_id, number, reviewed=False)
    async with backend.transaction() as session:
        assert await review_if_ready(session, backend, done.enrolment_id)


async def test_completion_reaches_an_open_web_chat_and_an_unbound_person_by_sms(
    served: tuple[str, FastAPI], backend: Backend, clock: FakeClock
) -> None:
    base, app = served
    clock.current = china(2026, 6, 3, 10)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        bound = await registered(http, backend)
        unbound = await registered(http, backend, name="张三")
        await bind(backend, bound, "rest:web-a")
        await http.post("/webhooks/rest/webhook", json={"sender": "web-a", "message": "你好"})
        await complete(backend, bound.person_id, await add_certificate(backend, bound))
        await complete(backend, unbound.person_id, await add_certificate(backend, unbound))
        assert await texts_to(backend, unbound.phone) == [COMPLETION_SMS], "no chat: the SMS goes at once"
        assert await texts_to(backend, bound.phone) == []

        page, delivered = await asyncio.gather(stream(http, "web-a", 1), scheduler_of(app).tick())
        assert delivered == 1
        assert str(page[0]["text"]).startswith(COMPLETION_SMS) and STOP in str(page[0]["text"])
        assert page[0]["buttons"] == [
            {"title": "学时证明", "payload": "/training_proof"},
            {"title": "电子证书", "payload": "/renew_certificate"},
        ]
        assert await scheduler_of(app).tick() == 0, "sent once"
    assert await texts_to(backend, bound.phone) == [], "a bound person gets the chat message, no SMS"
    states = {(n.person_id, n.kind): (n.state, n.via) for n in await notices(backend)}
    assert states == {
        (bound.person_id, "completion"): ("sent", "chat"),
        (unbound.person_id, "completion"): ("sent", "sms"),
    }


async def test_quiet_hours_hold_everything_until_eight_in_the_morning(
    served: tuple[str, FastAPI], backend: Backend, clock: FakeClock
) -> None:
    base, app = served
    clock.current = china(2026, 6, 3, 21, 30)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        unbound = await registered(http, backend)
        await complete(backend, unbound.person_id, await add_certificate(backend, unbound))
        assert await texts_to(backend, unbound.phone) == [], "no SMS at 21:30"
        assert await scheduler_of(app).tick() == 0
        clock.current = china(2026, 6, 4, 7, 59)
        assert await scheduler_of(app).tick() == 0
        clock.current = china(2026, 6, 4, 8, 0)
        assert await scheduler_of(app).tick() == 1
    [text] = await texts_to(backend, unbound.phone)
    assert text.startswith(COMPLETION_SMS) and STOP in text


async def test_opted_out_person_gets_completions_but_no_reminders(
    served: tuple[str, FastAPI], backend: Backend, clock: FakeClock
) -> None:
    base, app = served
    clock.current = china(2026, 6, 3, 10)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        trainee = await registered(http, backend, photo=False)
        await registered_at(backend, trainee.person_id, clock.current)
        await bind(backend, trainee, "rest:web-b")
        await http.post("/webhooks/rest/webhook", json={"sender": "web-b", "message": "你好"})
        headers = {**service(backend), "X-Jianpei-Chat": "rest%3Aweb-b"}
        stopped = await http.put("/api/assistant/notices/opt-out", headers=headers)
        assert stopped.json() == {"opted_out": True}
        clock.current = china(2026, 6, 5, 10)  # a day without a photo: a reminder is due
        await complete(backend, trainee.person_id, await add_certificate(backend, trainee))
        page, delivered = await asyncio.gather(stream(http, "web-b", 1), scheduler_of(app).tick())
        assert delivered == 1 and str(page[0]["text"]).startswith(COMPLETION_SMS)
        assert {(n.kind, n.state) for n in await notices(backend)} == {
            ("completion", "sent"),
            ("photo", "opted_out"),
        }
        resumed = await http.delete("/api/assistant/notices/opt-out", headers=headers)
        assert resumed.json() == {"opted_out": False}
    assert await count_sms(backend) == 0
