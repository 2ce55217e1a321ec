"""The Rasa test stories of tests/test_conversations.yml, each on SQLite and on PostgreSQL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from services.context import Backend
from tests.assistant.stories import load_stories, run_story

STORIES = load_stories()


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_story(story: Any, chat_http: httpx.AsyncClient, backend: Backend, clock: Any) -> None:
    await run_story(story, chat_http, backend, clock)
