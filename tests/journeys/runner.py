"""Plays the typed journeys of journeys.yml against the assistant and judges each by the backend.

A journey completes when every `expect` holds after its last message; the runner never looks at
which actions ran, only at what a worker would be left with (an account, an enrolment, a photo...).
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml
from sqlalchemy import func, select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import (
    AssessmentAttempt,
    Certificate,
    ChatBinding,
    ConversationEvent,
    ECertificate,
    Enrolment,
    LearningAccount,
    Person,
    Photo,
    Question,
    RegistryAccount,
    SmsMessage,
    TrainingProof,
)
from tests.assistant.stories import (
    DEMO_ID,
    DEMO_PHONE,
    bind_demo_trainee,
    demo_learning_headers,
    latest_code,
    photo,
    register_demo_on_platform,
    register_on_platform,
)
from tests.learning.conftest import Trainee, enrol, load_catalog, sit_paper, watch_all, write_catalog
from tests.photos.synth import id_photo_jpeg

JOURNEYS_FILE = Path(__file__).with_name("journeys.yml")
PHOTO = re.compile(r"^\[照片 (?P<name>[\w.]+)\]$")
WAIT = re.compile(r"^\[等 (?P<n>\d+) (?P<unit>秒|分钟)\]$")
ANSWER = re.compile(r"^\[答题 (?P<style>\S+)\]$")
WRONG = "[答错]"
FULL_WIDTH = {chr(c): chr(c + 0xFEE0) for c in range(ord("A"), ord("Z") + 1)}


@dataclass
class Journey:
    name: str
    given: list[str]
    say: list[str]
    expect: dict[str, Any]


@dataclass
class Outcome:
    journey: Journey
    unmet: list[str] = field(default_factory=list)
    last_answer: str = ""

    @property
    def complete(self) -> bool:
        return not self.unmet


def load_journeys(path: Path = JOURNEYS_FILE) -> list[Journey]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Journey(j["name"], list(j.get("given", [])), [str(m) for m in j["say"]], dict(j["expect"]))
        for j in data["journeys"]
    ]


async def _given(
    given: list[str], http: httpx.AsyncClient, backend: Backend, clock: Any, sender: str
) -> None:
    if {"demo", "bound"} & set(given):
        await load_demo_data(backend)
    if "catalog" in given:
        await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))
    if "bound" in given:
        await bind_demo_trainee(http, backend, sender)
        clock.advance(seconds=61)
    if "platform" in given:
        await register_demo_on_platform(http, backend)
        clock.advance(seconds=61)
    if "chagan_on_platform" in given:
        await register_on_platform(http, backend, "查干湖", "220723197011030711", "13900000004")
        clock.advance(seconds=61)
    if "learned" in given or "watched" in given:
        if "learned" in given:
            registry = await http.post(
                "/api/registry/sessions", json={"login": DEMO_ID, "password": DEMO_PHONE}
            )
            uploaded = await http.put(
                "/api/registry/me/photo",
                files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")},
                headers={"Authorization": f"Bearer {registry.json()['token']}"},
            )
            assert uploaded.status_code == 201, uploaded.text
        trainee = Trainee(0, "古林前", DEMO_ID, DEMO_PHONE, await demo_learning_headers(http), ["221175"])
        order = await enrol(http, trainee, "221175", year=2026, package="PKG-JX")
        await watch_all(http, trainee, order, clock)
        if "passed" in given:
            handed_in = await sit_paper(http, backend, trainee, order["id"], right=10)
            assert handed_in.json()["passed"], handed_in.text


def _styled(letters: str, options: list[str], style: str) -> str:
    """The right letters as a worker types them."""
    if style == "对错" and options == ["正确", "错误"]:
        return "对的" if letters == "A" else "错的"
    if style == "选x":
        return "选" + letters.lower()
    if style == "全角":
        return "".join(FULL_WIDTH[c] for c in letters)
    if style == "x选项":
        return letters + "选项"
    return letters.lower()


async def _open_question(backend: Backend) -> tuple[int, str, list[str]] | None:
    """(index, right letters, options) of the first unanswered question of the open paper."""
    async with backend.sessions() as session:
        attempt = await session.scalar(
            select(AssessmentAttempt)
            .where(AssessmentAttempt.submitted_at.is_(None))
            .order_by(AssessmentAttempt.id)
        )
        if attempt is None:
            return None
        for index, qid in enumerate(attempt.question_ids, start=1):
            if str(index) not in attempt.answers:
                question = await session.get(Question, qid)
                assert question is not None
                return index, question.answer, list(question.options)
    return None


class Conversation:
    def __init__(self, http: httpx.AsyncClient, backend: Backend, clock: Any, sender: str) -> None:
        self.http, self.backend, self.clock, self.sender = http, backend, clock, sender
        self.conversation_id = f"rest:{sender}"  # how the REST channel keys it
        self.answers: list[str] = []

    async def post(self, body: dict[str, Any]) -> None:
        response = await self.http.post("/webhooks/rest/webhook", json={"sender": self.sender, **body})
        assert response.status_code == 200, response.text
        self.answers.append("\n".join(a.get("text") or "" for a in response.json()))
        self.clock.advance(seconds=5)  # a person's pace

    async def newest_code(self) -> str:
        """The code the worker reads off his phone; with none texted he types what he guesses."""
        async with self.backend.sessions() as session:
            if await session.scalar(select(SmsMessage.id).limit(1)) is None:
                return "123456"
        return await latest_code(self.backend)

    async def say(self, message: str) -> None:
        if waited := WAIT.match(message):
            unit = "seconds" if waited.group("unit") == "秒" else "minutes"
            self.clock.advance(**{unit: int(waited.group("n"))})
            return
        if matched := PHOTO.match(message):
            content = base64.b64encode(photo(matched.group("name"))).decode()
            attachment = {"filename": matched.group("name"), "content_base64": content}
            await self.post({"message": "", "metadata": {"attachment": attachment}})
            return
        styled = ANSWER.match(message)
        if styled or message == WRONG:
            for _ in range(20):  # a paper has 10 questions; a refused answer is retried
                question = await _open_question(self.backend)
                if question is None:
                    return
                _, right, options = question
                if styled:
                    await self.post({"message": _styled(right, options, styled.group("style"))})
                else:
                    await self.post({"message": "A" if right != "A" else "B"})
            return
        if "{code}" in message:
            message = message.replace("{code}", await self.newest_code())
        await self.post({"message": message})


async def _bound_person(backend: Backend, sender: str) -> Person | None:
    async with backend.sessions() as session:
        return await session.scalar(
            select(Person)
            .join(ChatBinding, ChatBinding.person_id == Person.id)
            .where(ChatBinding.sender_id == sender)
        )


async def _count(backend: Backend, query: Any) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(query.subquery())) or 0)


async def _unmet(journey: Journey, talk: Conversation) -> list[str]:
    backend, unmet = talk.backend, []
    bound = await _bound_person(backend, talk.conversation_id)
    for key, value in journey.expect.items():
        if key in ("registered", "on_platform"):
            model = RegistryAccount if key == "registered" else LearningAccount
            query = select(model.id).join(Person, Person.id == model.person_id).where(Person.name == value)
            ok = await _count(backend, query) == 1
        elif key == "bound":
            ok = bound is not None and bound.name == value
        elif key in ("enrolled", "not_enrolled"):
            ok = True
            for pair in value:
                number, year = pair.split("/")
                query = (
                    select(Enrolment.id)
                    .join(Certificate, Certificate.id == Enrolment.certificate_id)
                    .where(Certificate.certificate_number == number, Enrolment.cycle_year == int(year))
                )
                ok = ok and (await _count(backend, query) == 1) == (key == "enrolled")
        elif key == "photo":
            query = select(Photo.id).join(Person, Person.id == Photo.person_id).where(Person.name == value)
            ok = await _count(backend, query) == 1
        elif key == "passed":
            query = (
                select(Enrolment.id)
                .join(Certificate, Certificate.id == Enrolment.certificate_id)
                .where(Certificate.certificate_number == value, Enrolment.assessment_passed_at.is_not(None))
            )
            ok = await _count(backend, query) >= 1
        elif key == "proof":
            ok = (
                await _count(
                    backend, select(TrainingProof.id).where(TrainingProof.certificate_number == value)
                )
                >= 1
            )
        elif key == "ecert":
            ok = (
                await _count(backend, select(ECertificate.id).where(ECertificate.certificate_number == value))
                >= 1
            )
        elif key in ("employer", "education"):
            ok = bound is not None and getattr(bound, key) == value
        elif key == "password":
            ok = await _password_works(talk, bound, value)
        elif key == "sms_at_least":
            query = select(SmsMessage.id).where(SmsMessage.phone == value["phone"])
            ok = await _count(backend, query) >= value["count"]
        elif key == "said":
            ok = all(any(text in answer for answer in talk.answers) for text in value)
        else:
            raise AssertionError(f"{journey.name}: unknown expectation {key}")
        if not ok:
            unmet.append(f"{key}={value}")
    return unmet


async def _password_works(talk: Conversation, bound: Person | None, password: str) -> bool:
    """The new password logs in, and neither an answer nor the stored history holds it."""
    if bound is None:
        return False
    login = await talk.http.post(
        "/api/registry/sessions", json={"login": bound.id_number, "password": password}
    )
    async with talk.backend.sessions() as session:
        rows = (
            await session.scalars(
                select(ConversationEvent.data).where(ConversationEvent.sender_id == talk.conversation_id)
            )
        ).all()
    stored = any(password in json.dumps(json.loads(row), ensure_ascii=False) for row in rows)
    echoed = any(password in answer for answer in talk.answers)
    return login.status_code == 200 and not stored and not echoed


async def play(
    journey: Journey, http: httpx.AsyncClient, backend: Backend, clock: Any, number: int
) -> Outcome:
    talk = Conversation(http, backend, clock, f"journey-{number}")
    await _given(journey.given, http, backend, clock, talk.conversation_id)
    for message in journey.say:
        await talk.say(message)
    outcome = Outcome(journey, await _unmet(journey, talk))
    outcome.last_answer = talk.answers[-1] if talk.answers else ""
    return outcome


def report(outcomes: list[Outcome]) -> str:
    lines = [f"{sum(o.complete for o in outcomes)} of {len(outcomes)} typed journeys complete"]
    for o in outcomes:
        if not o.complete:
            said = o.last_answer.replace("\n", " / ")[:120]
            lines.append(f"  ✗ {o.journey.name}: {', '.join(o.unmet)} — last answer: {said}")
    return "\n".join(lines)
