"""The assistant over its REST channel, in-process, on the test database and clock of `backend`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import nlu
from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend


class Chat:
    """One trainee's chat: `say` posts to the REST channel and returns the answers."""

    def __init__(self, http: httpx.AsyncClient, sender: str) -> None:
        self.http = http
        self.sender = sender
        self.conversation_id = f"rest:{sender}"  # how the REST channel keys the conversation

    async def say(self, text: str, **metadata: Any) -> list[dict[str, Any]]:
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        response = await self.http.post("/webhooks/rest/webhook", json=body)
        assert response.status_code == 200, response.text
        answers: list[dict[str, Any]] = response.json()
        assert all(a["recipient_id"] == self.sender for a in answers)
        return answers

    async def text(self, message: str, **metadata: Any) -> str:
        return "\n".join(a.get("text", "") for a in await self.say(message, **metadata))


@pytest.fixture(scope="session")
def nlu_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory whose models/ holds the NLU model, trained once for the whole run."""
    return tmp_path_factory.mktemp("nlu")


@pytest.fixture(scope="session")
def interpreter(nlu_data_dir: Path) -> Interpreter:
    """The real NLU."""
    return nlu.load_interpreter(nlu_data_dir / "models")


@pytest.fixture
async def chat_http(backend: Backend, interpreter: Interpreter) -> AsyncIterator[httpx.AsyncClient]:
    settings = AssistantSettings(_env_file=None)  # type: ignore[call-arg]
    app = create_assistant_app(backend, settings, interpreter)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test"
    ) as http:
        yield http


@pytest.fixture
def chat(chat_http: httpx.AsyncClient) -> Chat:
    return Chat(chat_http, "trainee-1")
