"""Learning test helpers: a catalog of minute-long courses; trainees who registered over HTTP."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app as cli_app
from services.context import Backend
from services.learning.catalog import DEMO_CATALOG, apply_catalog, read_catalog
from services.settings import get_settings
from storage.models import AssessmentAttempt, Certificate, Person, Question, SmsMessage
from tests.conftest import FakeClock
from tests.people import make_id_number, make_phone

COURSE_SECONDS = 60


def write_catalog(folder: Path, *, duration: int = COURSE_SECONDS) -> Path:
    """The demo catalog with every course `duration` seconds long (the demo videos stand in)."""
    raw = yaml.safe_load(DEMO_CATALOG.read_text(encoding="utf-8"))
    for course in raw["courses"]:
        course["duration"] = duration
    raw["media_dir"] = str(DEMO_CATALOG.parent / "media")
    raw["question_bank"] = "questions.yml"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "questions.yml").write_bytes((DEMO_CATALOG.parent / "questions.yml").read_bytes())
    path = folder / "catalog.yml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


async def load_catalog(backend: Backend, path: Path) -> None:
    catalog = read_catalog(path, backend.settings)
    async with backend.transaction() as session:
        await apply_catalog(session, catalog, backend.settings, now=backend.now())


@pytest.fixture
async def catalog(backend: Backend, tmp_path: Path) -> Path:
    path = write_catalog(tmp_path / "catalog")
    await load_catalog(backend, path)
    return path


@dataclass
class Trainee:
    person_id: int
    name: str
    id_number: str
    phone: str
    headers: dict[str, str]
    certificates: list[str]


async def add_person(backend: Backend, name: str, certificates: list[tuple[str, str]]) -> tuple[int, str]:
    """A person the authority uploaded, with certificates (number, position) all 非正常."""
    id_number = make_id_number()
    now = backend.now()
    async with backend.transaction() as session:
        person = Person(id_number=id_number, name=name, created_at=now, updated_at=now)
        session.add(person)
        await session.flush()
        for number, position in certificates:
            category = "技能人员" if position.endswith(("工", "司机")) else "专业人员"
            session.add(
                Certificate(
                    person_id=person.id,
                    certificate_number=number,
                    position=position,
                    category=category,
                    status="非正常",
                    remark="未按要求完成继续教育",
                    issued_on=date(2020, 5, 1),
                    created_at=now,
                    updated_at=now,
                )
            )
        return person.id, id_number


async def last_code(backend: Backend, phone: str) -> str:
    async with backend.sessions() as session:
        text = await session.scalar(
            select(SmsMessage.text).where(SmsMessage.phone == phone).order_by(SmsMessage.id.desc()).limit(1)
        )
    assert text is not None
    match = re.search(r"\d{6}", text)
    assert match is not None
    return match.group(0)


async def register_and_login(
    client: httpx.AsyncClient, backend: Backend, name: str, id_number: str
) -> Trainee:
    phone = make_phone()
    sent = await client.post("/api/learning/sms-codes", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    code = await last_code(backend, phone)
    made = await client.post(
        "/api/learning/accounts", json={"name": name, "id_number": id_number, "phone": phone, "code": code}
    )
    assert made.status_code == 201, made.text
    logged = await client.post("/api/learning/login", json={"login": id_number, "password": phone})
    assert logged.status_code == 200, logged.text
    async with backend.sessions() as session:
        person_id = await session.scalar(select(Person.id).where(Person.id_number == id_number))
    assert person_id is not None
    return Trainee(
        person_id=person_id,
        name=name,
        id_number=id_number,
        phone=phone,
        headers={"Authorization": f"Bearer {logged.json()['token']}"},
        certificates=[],
    )


_numbers = iter(range(300001, 399999))


async def make_trainee(
    client: httpx.AsyncClient, backend: Backend, positions: tuple[str, ...] = ("机械员",)
) -> Trainee:
    numbers = [str(next(_numbers)) for _ in positions]
    _, id_number = await add_person(backend, "松花江", list(zip(numbers, positions, strict=True)))
    trainee = await register_and_login(client, backend, "松花江", id_number)
    trainee.certificates = numbers
    return trainee


async def enrol(
    client: httpx.AsyncClient, trainee: Trainee, number: str, *, year: int = 2026, package: str = "PKG-JX"
) -> dict:
    answer = await client.post(
        "/api/learning/enrolments",
        json={"certificate_number": number, "cycle_year": year, "package_code": package},
        headers=trainee.headers,
    )
    assert answer.status_code == 201, answer.text
    return answer.json()


async def watch_all(client: httpx.AsyncClient, trainee: Trainee, order: dict, clock: FakeClock) -> None:
    """Watch every course of the order to the end, reporting every 5 seconds as the player does."""
    for course in order["courses"]:
        watch = await client.post(
            f"/api/learning/enrolments/{order['id']}/courses/{course['seq']}/watch", headers=trainee.headers
        )
        assert watch.status_code == 201, watch.text
        session_id, position, seq = watch.json()["session_id"], watch.json()["resume_at"], 0
        while position < course["duration_seconds"]:
            clock.advance(seconds=5)
            seq += 1
            position = min(position + 5, course["duration_seconds"])
            beat = await client.post(
                f"/api/learning/watch/{session_id}/heartbeats",
                json={"seq": seq, "position": position, "rate": 1},
                headers=trainee.headers,
            )
            assert beat.status_code == 200, beat.text


async def correct_answers(backend: Backend, enrolment_id: int) -> list[str]:
    """The right letters of the open paper's questions, in paper order."""
    async with backend.sessions() as session:
        attempt = await session.scalar(
            select(AssessmentAttempt)
            .where(AssessmentAttempt.enrolment_id == enrolment_id)
            .order_by(AssessmentAttempt.id.desc())
            .limit(1)
        )
        assert attempt is not None
        answers = {q.id: q.answer for q in await session.scalars(select(Question))}
    return [answers[qid] for qid in attempt.question_ids]


async def sit_paper(
    client: httpx.AsyncClient, backend: Backend, trainee: Trainee, enrolment_id: int, *, right: int
) -> httpx.Response:
    """Start a paper and answer it one question at a time, `right` of them correctly; hand it in."""
    started = await client.post(
        f"/api/learning/enrolments/{enrolment_id}/assessment", headers=trainee.headers
    )
    assert started.status_code == 201, started.text
    for index, answer in enumerate(await correct_answers(backend, enrolment_id), start=1):
        given = answer if index <= right else ("B" if answer != "B" else "A")
        put = await client.put(
            f"/api/learning/enrolments/{enrolment_id}/assessment/answers/{index}",
            json={"answer": given},
            headers=trainee.headers,
        )
        assert put.status_code == 200, put.text
    return await client.post(
        f"/api/learning/enrolments/{enrolment_id}/assessment/submit", headers=trainee.headers
    )


@dataclass
class CliResult:
    returncode: int
    stdout: str
    stderr: str


async def run_cli(backend: Backend, *args: str) -> CliResult:
    """`jianpei ARGS` in-process (the real typer app and configuration path) against the test database."""
    env = {
        "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
        "JIANPEI_ENV": "test",
    }

    def invoke() -> CliResult:
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli_app, list(args), env=env)
        finally:
            get_settings.cache_clear()
        return CliResult(returncode=result.exit_code, stdout=result.stdout, stderr=result.stderr)

    # The command runs its own event loop, so it gets a thread of its own.
    return await asyncio.to_thread(invoke)
