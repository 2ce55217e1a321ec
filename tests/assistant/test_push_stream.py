"""Pushes to REST and web chats over real HTTP: kept when no page is open, streamed in order and
once from where a page left off, and a turn that breaks inside still answers Rasa's list."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from bot.app import create_assistant_app
from bot.channels.outbound import Outbound, UnknownChannel
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.test_end_to_end import uvicorn_serving


@pytest.fixture
async def served_app(backend: Backend, interpreter: Interpreter) -> AsyncIterator[tuple[str, FastAPI]]:
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as base:
        yield base, app


async def _events(http: httpx.AsyncClient, sender: str, after: int, count: int) -> list[dict[str, object]]:
    """The first `count` events of the chat's stream after message `after`."""
    found: list[dict[str, object]] = []
    body = {"sender": sender, "after": after}
    async with http.stream("POST", "/webhooks/rest/stream", json=body) as stream:
        assert stream.status_code == 200
        async for line in stream.aiter_lines():
            if line.startswith("data: "):
                found.append(json.loads(line[6:]))
                if len(found) == count:
                    break
    return found


async def test_pushes_wait_for_a_closed_page_and_stream_in_order_once(
    served_app: tuple[str, FastAPI],
) -> None:
    base, app = served_app
    outbound: Outbound = app.state.outbound
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await http.post("/webhooks/rest/webhook", json={"sender": "web-a", "message": "你好"})
        # no page is listening: kept, not lost, not an error
        await outbound.send("rest:web-a", [{"text": "一"}, {"text": "二"}])
        third = {"text": "三", "buttons": [{"title": "好", "payload": "/affirm"}]}
        await outbound.send("rest:web-a", [third])
        first = await _events(http, "web-a", 0, 3)
        assert [e["text"] for e in first] == ["一", "二", "三"]
        assert first[2]["buttons"] == [{"title": "好", "payload": "/affirm"}]
        ids = [int(str(e["id"])) for e in first]
        assert ids == sorted(ids)
        # a page that reconnects after the second gets only what it missed
        again = await _events(http, "web-a", ids[1], 1)
        assert [e["text"] for e in again] == ["三"]
        history = (await http.post("/webhooks/rest/history", json={"sender": "web-a"})).json()
        assert [line.get("text") for line in history["lines"]][-3:] == ["一", "二", "三"]
        assert history["after"] == ids[2]
        # another chat's stream sees none of it
        await http.post("/webhooks/rest/webhook", json={"sender": "web-b", "message": "你好"})
        other = (await http.post("/webhooks/rest/history", json={"sender": "web-b"})).json()
        assert not [line for line in other["lines"] if line.get("text") in ("一", "二", "三")]
        assert other["after"] == 0


async def test_a_push_to_an_unknown_channel_is_refused_by_name(served_app: tuple[str, FastAPI]) -> None:
    _base, app = served_app
    with pytest.raises(UnknownChannel):
        await app.state.outbound.send("fax:123", [{"text": "你好"}])


async def test_a_turn_that_breaks_inside_still_answers_a_list(
    served_app: tuple[str, FastAPI], backend: Backend
) -> None:
    base, _app = served_app
    async with backend.engine.begin() as conn:
        await conn.execute(text("ALTER TABLE assistant_events RENAME TO assistant_events_away"))
    try:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            answer = await http.post("/webhooks/rest/webhook", json={"sender": "web-c", "message": "你好"})
    finally:
        async with backend.engine.begin() as conn:
            await conn.execute(text("ALTER TABLE assistant_events_away RENAME TO assistant_events"))
    assert answer.status_code == 200
    [only] = answer.json()
    assert only["recipient_id"] == "web-c"
    assert "4009999355" in only["text"] and "错误编号" in only["text"]
