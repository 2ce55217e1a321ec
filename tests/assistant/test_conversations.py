"""The Rasa test stories of tests/test_conversations.yml, each on SQLite and on PostgreSQL, through the
embedded runtime; `python -m tests.rasa_parity` plays the same stories against a Rasa server."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from nlu import Interpreter
from services.context import Backend
from tests.assistant.stories import load_stories, run_story
from tests.rasa_parity import ENGINE_VARIABLE, action_server, rasa_engine

ON_RASA = os.environ.get(ENGINE_VARIABLE) == "rasa"
# Under Rasa, a story of an embedded-only behaviour is left out by its own metadata (README lists why).
STORIES = [s for s in load_stories() if not ON_RASA or "rasa" in s.engines]


@pytest.fixture(scope="session")
async def rasa_actions(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[None]:
    """`jianpei actions` for the whole Rasa run (the secret is the test backends' own); nothing in
    the embedded run."""
    if not ON_RASA:
        yield
        return
    async with action_server(tmp_path_factory.mktemp("actions"), "test-secret"):
        yield


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_story(
    story: Any,
    chat_http: httpx.AsyncClient,
    backend: Backend,
    clock: Any,
    interpreter: Interpreter,
    rasa_actions: None,
) -> None:
    if ON_RASA:
        async with rasa_engine(backend, interpreter) as (engine, http):
            await run_story(story, http, backend, clock, engine)
    else:
        await run_story(story, chat_http, backend, clock)
