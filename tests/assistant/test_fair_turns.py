"""Fifty trainees writing at once are served fairly: each gets his own answers in the order he asked,
and nobody waits while others are answered again and again. Turns run eight at a time (the
default budget's size here), so between two answers to one trainee at most one answer to each
other trainee, plus one batch of eight, may come."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import Counter, defaultdict
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from storage.models import ConversationEvent

SENDERS = 50
BATCH = 8
SCRIPT = ("你好", "/contact_support", "照片有什么要求", "能快进吗")


@pytest.fixture
async def chat_http(backend: Backend, interpreter: Interpreter) -> AsyncIterator[httpx.AsyncClient]:
    settings = AssistantSettings(max_parallel_turns=BATCH, _env_file=None)  # type: ignore[call-arg]
    app = create_assistant_app(backend, settings, interpreter)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test"
    ) as http:
        yield http


async def conversation(http: httpx.AsyncClient, sender: str) -> list[list[str]]:
    """The script sent one message after the answer to the other, as a person types."""
    answers = []
    for text in SCRIPT:
        response = await http.post("/webhooks/rest/webhook", json={"sender": sender, "message": text})
        assert response.status_code == 200, response.text
        answers.append([str(answer.get("text")) for answer in response.json()])
    return answers


async def test_fifty_senders_at_once_each_answered_in_order_none_left_waiting(
    chat_http: httpx.AsyncClient, backend: Backend
) -> None:
    alone = await conversation(chat_http, "fair-alone")
    assert all(alone), "every message of the script has an answer"

    senders = [f"fair-{number:02d}" for number in range(SENDERS)]
    answered = await asyncio.gather(*(conversation(chat_http, sender) for sender in senders))
    assert all(answers == alone for answers in answered), "each got his own answers, in his order"

    served: dict[str, list[str]] = defaultdict(list)
    order: list[str] = []
    async with backend.sessions() as session:
        rows = await session.execute(
            select(ConversationEvent.sender_id, ConversationEvent.data)
            .where(ConversationEvent.type_name == "user", ConversationEvent.sender_id.like("rest:fair-%"))
            .order_by(ConversationEvent.id)
        )
        for sender_id, data in rows:
            if sender_id == "rest:fair-alone":
                continue
            served[sender_id].append(json.loads(data)["text"])
            order.append(sender_id)
    assert len(order) == SENDERS * len(SCRIPT)
    assert all(texts == list(SCRIPT) for texts in served.values()), "turns saved in the order sent"

    for sender in served:
        turns = [index for index, who in enumerate(order) if who == sender]
        for before, after in itertools.pairwise(turns):
            between = Counter(order[before + 1 : after])
            assert sum(between.values()) <= SENDERS - 1 + BATCH, (
                f"{sender} waited while {sum(between.values())} other turns were served"
            )
            assert max(between.values(), default=0) <= 2, (
                f"{sender} waited while {between.most_common(1)} was answered again and again"
            )
