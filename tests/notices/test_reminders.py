"""Each reminder rule fires once when its threshold is crossed, and at most one reminder a day
goes to a person, however often the rules run."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from services.context import Backend
from storage.models import Certificate, HoursRecord
from tests.conftest import FakeClock
from tests.documents.enrolments import enrolment
from tests.documents.trainees import add_certificate, registered
from tests.notices.conftest import china, notices, registered_at, scheduler_of, service


async def due(http: httpx.AsyncClient, backend: Backend) -> int:
    answer = await http.post("/api/assistant/notices/due", headers=service(backend))
    assert answer.status_code == 200, answer.text
    return int(answer.json()["recorded"])


async def kinds(backend: Backend, person_id: int) -> list[str]:
    return sorted(n.kind for n in await notices(backend, person_id))


async def test_each_reminder_once_at_its_threshold(
    served: tuple[str, FastAPI], backend: Backend, clock: FakeClock
) -> None:
    base, app = served
    clock.current = china(2026, 10, 20, 10)
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        trainee = await registered(http, backend, photo=False)
        await registered_at(backend, trainee.person_id, clock.current)
        number = await add_certificate(backend, trainee, hours={})
        await enrolment(backend, trainee.person_id, number, completed=False, passed=False, reviewed=False)
        other = await add_certificate(backend, trainee, position="材料员", hours={})
        await enrolment(backend, trainee.person_id, other, passed=False, reviewed=False)
        assert await due(http, backend) == 0, "nothing is due on the day things happen"

        clock.advance(minutes=31)  # the failed paper's 30 minutes are over
        assert await due(http, backend) == 1 and await kinds(backend, trainee.person_id) == ["retry"]
        assert await due(http, backend) == 0, "once per threshold"
        clock.advance(days=1)  # a day after registering, still no photo
        assert await due(http, backend) == 1
        assert await due(http, backend) == 0

        clock.current = china(2026, 11, 1, 9)  # 1 Nov: the year's hours are missing on both
        assert await due(http, backend) == 2
        assert await kinds(backend, trainee.person_id) == ["cycle_end", "cycle_end", "photo", "retry"]
        clock.current = china(2026, 11, 3, 10)  # 14 days after the order without study
        assert await due(http, backend) == 1
        assert await due(http, backend) == 0
        clock.current = china(2026, 12, 1, 10)  # the next cycle-end threshold: once more per certificate
        assert await due(http, backend) == 2

        async with backend.transaction() as session:  # hours recorded four days ago, no e-certificate
            session.add(
                HoursRecord(
                    certificate_id=await session.scalar(
                        select(Certificate.id).where(Certificate.certificate_number == number)
                    ),
                    cycle_year=2025,
                    professional_hours=22,
                    general_hours=10,
                    recorded_at=clock.current - timedelta(days=4),
                )
            )
        assert await due(http, backend) == 1
        assert await due(http, backend) == 0
        assert sorted(set(await kinds(backend, trainee.person_id))) == [
            "cycle_end",
            "ecert",
            "idle",
            "photo",
            "retry",
        ]

        # eight reminders wait; a tick sends one a day
        assert await scheduler_of(app).tick() == 1
        assert await scheduler_of(app).tick() == 0
        clock.advance(days=1)
        assert await scheduler_of(app).tick() == 1
    sent = [n for n in await notices(backend, trainee.person_id) if n.state == "sent"]
    assert [n.via for n in sent] == ["sms", "sms"]
