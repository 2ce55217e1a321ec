"""Runs Rasa test stories (tests/test_conversations.yml) against the runtime over its REST channel.

Each `user` step is sent as is (a `/intent{...}` payload or typed text); the turn's executed actions
must equal the story's `action` steps, the parsed intent its `intent`, slots its `slot_was_set`, the
active loop its last `active_loop`. Two additions Rasa's format leaves to the runner:
- `bot: 文字` (as in Rasa end-to-end stories): some answer of the turn contains the text;
- in user text, `{code}` is the newest SMS code in the outbox, `{right}` the right answer to the
  next question of the open assessment paper, and `[照片 NAME]` sends a photo
  (`ok.jpg`, `big.jpg`, `cat.jpg`, `broken.jpg`) as metadata.attachment.
Story `metadata.given` sets the world up: `demo` (the demo cohort), `catalog` (the demo courses,
each a minute long), `bound` (this chat bound to 古林前 by an SMS code), `platform` (古林前
registered on the 继续教育平台 too), `chagan_on_platform` (查干湖 has only a platform account) and
`learned` (古林前 has a photo, enrolled 221175 for 2026 and watched every course).

The engine is the embedded runtime (`EmbeddedEngine`, always) or a Rasa server trained on the same
files (`tests.rasa_parity.RasaEngine`, `python -m tests.rasa_parity`): both take the same REST
messages, and both trackers hold the same Rasa events."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import yaml
from sqlalchemy import select

from services.chatlinks.keys import service_key
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import AssessmentAttempt, ConversationEvent, SmsMessage
from tests.learning.conftest import Trainee, correct_answers, enrol, load_catalog, watch_all, write_catalog
from tests.photos.synth import cat, encode, id_photo_jpeg, portrait

STORIES_FILE = Path(__file__).resolve().parents[1] / "test_conversations.yml"
PHOTO = re.compile(r"^\[照片 (?P<name>[\w.]+)\]$")
DEMO_PHONE = "13900000001"
DEMO_ID = "220102197805120319"
ENGINES = ("embedded", "rasa")  # story metadata `engines: [embedded]`: a behaviour Rasa does not have


@dataclass
class Turn:
    user: str
    intent: str | None = None
    actions: list[str] = field(default_factory=list)
    bot: list[str] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: str | bool | None = False  # False: not asserted


@dataclass
class Story:
    name: str
    given: list[str]
    turns: list[Turn]
    engines: list[str] = field(default_factory=lambda: list(ENGINES))


def load_stories(path: Path = STORIES_FILE) -> list[Story]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    stories = []
    for spec in data["stories"]:
        turns: list[Turn] = []
        for step in spec["steps"]:
            if "user" in step:
                turns.append(Turn(user=str(step["user"]).strip(), intent=step.get("intent")))
            elif "action" in step:
                turns[-1].actions.append(step["action"])
            elif "bot" in step:
                turns[-1].bot.append(str(step["bot"]))
            elif "slot_was_set" in step:
                for entry in step["slot_was_set"]:
                    turns[-1].slots.update(entry)
            elif "active_loop" in step:
                turns[-1].active_loop = step["active_loop"]
        metadata = spec.get("metadata") or {}
        engines = list(metadata.get("engines", ENGINES))
        stories.append(Story(spec["story"], list(metadata.get("given", [])), turns, engines))
    return stories


def photo(name: str) -> bytes:
    """Test photos: `ok.jpg` passes the check, `big.jpg` (a large, loosely framed portrait) the fixer
    mends, `cat.jpg` has no face, `broken.jpg` is no picture at all."""
    if name == "broken.jpg":
        return b"\xff\xd8this is not a picture"
    if name == "cat.jpg":
        return encode(cat())
    if name == "big.jpg":
        return encode(portrait(900, 1260), quality=95)
    return id_photo_jpeg()


async def latest_code(backend: Backend, phone: str | None = None) -> str:
    async with backend.sessions() as session:
        query = select(SmsMessage.text).order_by(SmsMessage.id.desc()).limit(1)
        if phone:
            query = query.where(SmsMessage.phone == phone)
        text = await session.scalar(query)
    found = re.search(r"\d{6}", text or "")
    assert found, f"no code in the outbox: {text!r}"
    return found.group(0)


async def bind_demo_trainee(http: httpx.AsyncClient, backend: Backend, sender: str) -> None:
    """古林前's chat, bound the way the assistant binds: an SMS code to the account's phone."""
    sent = await http.post("/api/sms/codes", json={"phone": DEMO_PHONE, "purpose": "bind_chat"})
    assert sent.status_code == 202, sent.text
    headers = {"Authorization": f"Bearer {service_key(backend.settings.secret_key)}"}
    body = {"sender_id": sender, "phone": DEMO_PHONE, "code": await latest_code(backend, DEMO_PHONE)}
    bound = await http.post("/api/assistant/bindings", json=body, headers=headers)
    assert bound.status_code == 201, bound.text


async def register_on_platform(
    http: httpx.AsyncClient, backend: Backend, name: str, id_number: str, phone: str
) -> None:
    """A 继续教育平台 account, registered with the platform's SMS code."""
    sent = await http.post("/api/learning/sms-codes", json={"phone": phone})
    assert sent.status_code == 202, sent.text
    code = await latest_code(backend, phone)
    made = await http.post(
        "/api/learning/accounts", json={"name": name, "id_number": id_number, "phone": phone, "code": code}
    )
    assert made.status_code == 201, made.text


async def register_demo_on_platform(http: httpx.AsyncClient, backend: Backend) -> None:
    """古林前 also has a 继续教育平台 account."""
    await register_on_platform(http, backend, "古林前", DEMO_ID, DEMO_PHONE)


async def demo_learning_headers(http: httpx.AsyncClient) -> dict[str, str]:
    logged = await http.post("/api/learning/login", json={"login": DEMO_ID, "password": DEMO_PHONE})
    assert logged.status_code == 200, logged.text
    return {"Authorization": f"Bearer {logged.json()['token']}"}


async def demo_learns(http: httpx.AsyncClient, backend: Backend, clock: Any) -> None:
    """古林前 has a photo, enrolled 221175 for 2026 and watched every course to the end."""
    registry = await http.post("/api/registry/sessions", json={"login": DEMO_ID, "password": DEMO_PHONE})
    uploaded = await http.put(
        "/api/registry/me/photo",
        files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")},
        headers={"Authorization": f"Bearer {registry.json()['token']}"},
    )
    assert uploaded.status_code == 201, uploaded.text
    headers = await demo_learning_headers(http)
    trainee = Trainee(0, "古林前", DEMO_ID, DEMO_PHONE, headers, ["221175"])
    await watch_all(http, trainee, await enrol(http, trainee, "221175", year=2026, package="PKG-JX"), clock)


async def right_answers(backend: Backend) -> list[str]:
    """The right letters of the newest open paper."""
    async with backend.sessions() as session:
        enrolment_id = await session.scalar(
            select(AssessmentAttempt.enrolment_id).order_by(AssessmentAttempt.id.desc())
        )
    assert enrolment_id is not None, "no paper was started"
    return await correct_answers(backend, enrolment_id)


class Engine(Protocol):
    """Where the story's messages go and where the turn's events are read back."""

    def conversation(self, sender: str) -> str:
        """The sender id the actions see, under which a chat is bound."""
        ...

    async def send(self, body: dict[str, Any]) -> list[dict[str, Any]]: ...

    async def turn_events(self, sender: str) -> list[dict[str, Any]]: ...


def last_turn(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events from the last user message on."""
    last_user = max(i for i, e in enumerate(events) if e["event"] == "user")
    return events[last_user:]


@dataclass
class EmbeddedEngine:
    """The embedded runtime over its REST channel; events from its store."""

    http: httpx.AsyncClient
    backend: Backend

    def conversation(self, sender: str) -> str:
        return f"rest:{sender}"

    async def send(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        response = await self.http.post("/webhooks/rest/webhook", json=body)
        assert response.status_code == 200, response.text
        answers: list[dict[str, Any]] = response.json()
        return answers

    async def turn_events(self, sender: str) -> list[dict[str, Any]]:
        return await turn_events(self.backend, self.conversation(sender))


async def turn_events(backend: Backend, sender: str) -> list[dict[str, Any]]:
    """The stored events of the last turn: from the last user message on."""
    async with backend.sessions() as session:
        rows = (
            await session.scalars(
                select(ConversationEvent.data)
                .where(ConversationEvent.sender_id == sender)
                .order_by(ConversationEvent.id)
            )
        ).all()
    return last_turn([json.loads(row) for row in rows])


async def set_the_scene(
    story: Story, http: httpx.AsyncClient, backend: Backend, conversation: str, clock: Any
) -> None:
    """What the story's `given` says is true before its first turn, in the chat `conversation`."""
    if "demo" in story.given or "bound" in story.given:
        await load_demo_data(backend)
    if "catalog" in story.given:
        await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))
    if "bound" in story.given:
        await bind_demo_trainee(http, backend, conversation)
        clock.advance(seconds=61)  # the next code may be asked for
    if "platform" in story.given:
        await register_demo_on_platform(http, backend)
        clock.advance(seconds=61)
    if "chagan_on_platform" in story.given:
        await register_on_platform(http, backend, "查干湖", "220723197011030711", "13900000004")
        clock.advance(seconds=61)
    if "learned" in story.given:
        await demo_learns(http, backend, clock)


async def filled_in(text: str, backend: Backend, answered: int) -> tuple[str, int]:
    """The words of a turn with `{code}` (the newest SMS code) or `{right}` (the next right answer of
    the paper, `answered` being used so far) filled in; and how many answers are used now."""
    if "{code}" in text:
        return text.replace("{code}", await latest_code(backend)), answered
    if "{right}" in text:
        return text.replace("{right}", (await right_answers(backend))[answered]), answered + 1
    return text, answered


def check_turn(where: str, turn: Turn, events: list[dict[str, Any]], said: str) -> None:
    """The turn's events and what the assistant said, against what the story says of it."""
    if turn.intent:
        assert events[0]["parse_data"]["intent"]["name"] == turn.intent, where
    actions = [e["name"] for e in events if e["event"] == "action" and e["name"] != "action_listen"]
    assert actions == turn.actions, f"{where}: ran {actions}, story says {turn.actions}; said {said!r}"
    for expected in turn.bot:
        assert expected in said, f"{where}: {expected!r} not in {said!r}"
    slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
    for name, value in turn.slots.items():
        assert name in slots and slots[name] == value, f"{where}: slot {name} = {slots.get(name)!r}"
    if turn.active_loop is not False:
        loops = [e["name"] for e in events if e["event"] == "active_loop"]
        assert loops and loops[-1] == turn.active_loop, f"{where}: active loop {loops}"


async def run_story(
    story: Story, http: httpx.AsyncClient, backend: Backend, clock: Any, engine: Engine | None = None
) -> None:
    """Plays the story; `http` reaches the backend (the world is set up through it)."""
    engine = engine or EmbeddedEngine(http, backend)
    sender = f"story-{abs(hash(story.name))}"
    await set_the_scene(story, http, backend, engine.conversation(sender), clock)
    answered = 0
    for number, turn in enumerate(story.turns, start=1):
        where = f"{story.name}, turn {number} ({turn.user!r})"
        body: dict[str, Any] = {"sender": sender, "message": turn.user}
        matched = PHOTO.match(turn.user)
        if matched:
            content = base64.b64encode(photo(matched.group("name"))).decode()
            body = {
                "sender": sender,
                "message": "",
                "metadata": {"attachment": {"filename": matched.group("name"), "content_base64": content}},
            }
        else:
            body["message"], answered = await filled_in(turn.user, backend, answered)
        answers = await engine.send(body)
        texts = "\n".join(a.get("text") or "" for a in answers)
        check_turn(where, turn, await engine.turn_events(sender), texts)
        clock.advance(seconds=5)  # a person's pace: no step counts as a double tap
