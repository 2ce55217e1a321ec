"""The typed stories of tests/test_typed_conversations.yml: every step answered by typing, on SQLite
and on PostgreSQL, run exactly as the tap stories are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from services.context import Backend
from tests.assistant.stories import load_stories, run_story

STORIES = load_stories(Path(__file__).resolve().parents[1] / "test_typed_conversations.yml")


@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_typed_story(story: Any, chat_http: httpx.AsyncClient, backend: Backend, clock: Any) -> None:
    await run_story(story, chat_http, backend, clock)
