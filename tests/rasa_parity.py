"""The conversation stories against a real Rasa server: `python -m tests.rasa_parity`.

A separate job, never part of `make test`: it needs a Rasa 3.6 server trained on this repository's
files and started with its HTTP API (`rasa run --enable-api`), given by `JIANPEI_RASA_URL`, whose
endpoints.yml calls the action server at `http://127.0.0.1:$JIANPEI_ACTIONS_PORT/webhook` (5055).
Each story gets a fresh backend (test database, fake clock) served over HTTP on one port, which the
run's `jianpei actions` calls; messages go to the Rasa server's REST channel, and the turn's events
are read from its tracker (`GET /conversations/{sender}/tracker`). Stories whose metadata says
`engines: [embedded]` show behaviours only the embedded runtime has (README lists them) and are
not sent to Rasa. Without `JIANPEI_RASA_URL` the job fails: it is never skipped quietly."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
import yaml

from bot.app import create_assistant_app
from bot.runtime.photo_message import PHOTO_PAYLOAD
from bot.runtime.understanding import PAYLOAD
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.stories import ENGINES, STORIES_FILE, last_turn
from tests.served import until_healthy

ROOT = Path(__file__).resolve().parents[1]
ENGINE_VARIABLE = (
    "JIANPEI_STORY_ENGINE"  # "rasa" selects this engine for tests/assistant/test_conversations.py
)


@dataclass
class RasaEngine:
    """A Rasa server's REST channel; the turn's events from its tracker API."""

    rasa: httpx.AsyncClient
    run_id: str

    def conversation(self, sender: str) -> str:
        return f"{sender}-{self.run_id}"  # Rasa keeps trackers between runs: a fresh sender each run

    async def send(self, body: dict[str, Any]) -> list[dict[str, Any]]:
        sent = {**body, "sender": self.conversation(body["sender"])}
        if (sent.get("metadata") or {}).get("attachment"):
            sent["message"] = PHOTO_PAYLOAD  # as bot/channels/remote.py relays a photo
        response = await self.rasa.post("/webhooks/rest/webhook", json=sent)
        assert response.status_code == 200, response.text
        answers: list[dict[str, Any]] = response.json()
        return answers

    async def turn_events(self, sender: str) -> list[dict[str, Any]]:
        response = await self.rasa.get(f"/conversations/{self.conversation(sender)}/tracker")
        assert response.status_code == 200, f"Rasa's HTTP API (rasa run --enable-api): {response.text}"
        return asked_as_actions(last_turn(response.json()["events"]))


def asked_as_actions(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rasa asks a form's question inside the form action (a bot event, no action event of its own);
    the embedded runtime runs the `utter_ask_<slot>` as an action. The question Rasa asked is read
    from the bot event's `utter_action` so that a story's steps mean the same under both engines."""
    out: list[dict[str, Any]] = []
    for event in events:
        asked = (event.get("metadata") or {}).get("utter_action") if event["event"] == "bot" else None
        if isinstance(asked, str) and asked.startswith("utter_ask_"):
            out.append({"event": "action", "name": asked})
        out.append(event)
    return out


def rasa_url() -> str:
    url = os.environ.get("JIANPEI_RASA_URL")
    if not url:
        pytest.fail("JIANPEI_RASA_URL is not set: the Rasa stories need a running Rasa server")
    return url


BACKEND_PORT = int(os.environ.get("JIANPEI_STORY_BACKEND_PORT", "18077"))  # each story's backend, in turn


@asynccontextmanager
async def serving_on(app: Any, port: int) -> AsyncIterator[str]:
    """The app under uvicorn at 127.0.0.1:`port`, one story's backend after another on the same port."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@asynccontextmanager
async def action_server(data_dir: Path, secret_key: str) -> AsyncIterator[None]:
    """`jianpei actions` on JIANPEI_ACTIONS_PORT (5055, where the Rasa server's endpoints.yml calls),
    once per run, calling the story backends at BACKEND_PORT."""
    port = int(os.environ.get("JIANPEI_ACTIONS_PORT", "5055"))
    env = {
        **os.environ,
        "JIANPEI_BACKEND_URL": f"http://127.0.0.1:{BACKEND_PORT}",
        "JIANPEI_ENV": "test",
        "JIANPEI_DATA_DIR": str(data_dir),
        "JIANPEI_SECRET_KEY": secret_key,
    }
    command = (str(Path(sys.executable).parent / "jianpei"), "actions", "--port", str(port))
    process = await asyncio.create_subprocess_exec(
        *command, cwd=ROOT, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        await until_healthy(f"http://127.0.0.1:{port}", process)
        yield
    finally:
        process.terminate()
        await process.wait()


@asynccontextmanager
async def rasa_engine(
    backend: Backend, interpreter: Interpreter
) -> AsyncIterator[tuple[RasaEngine, httpx.AsyncClient]]:
    """The engine, and a client of the story's backend, which the action server calls."""
    url = rasa_url()
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with (
        serving_on(app, BACKEND_PORT) as backend_url,
        httpx.AsyncClient(base_url=url.rstrip("/"), timeout=120) as rasa,
        httpx.AsyncClient(base_url=backend_url, timeout=60) as http,
    ):
        yield RasaEngine(rasa, secrets.token_hex(3)), http


PLAIN_FILE = ROOT / "tests" / "test_conversations_rasa.yml"
PLAIN_HEADER = """\
# The plain-Rasa subset of tests/test_conversations.yml, for `rasa test core --stories` (written by
# `python -m tests.rasa_parity --export`; a test keeps it current): stories Rasa reproduces that need no
# world set up (`metadata.given`), no SMS code, answer or photo placeholders, without the `bot:` text
# checks (Rasa's `bot:` means the whole text of an end-to-end story, not a part of it), payload intents
# written out, and no `utter_ask_` steps (Rasa asks a form's question inside the form action).
"""
PLACEHOLDERS = ("{code}", "{right}", "[照片 ")


def _with_intent(step: dict[str, Any]) -> dict[str, Any]:
    """A payload's intent written out: `rasa test core` reads a bare user text as end-to-end text."""
    found = PAYLOAD.match(str(step.get("user", "")))
    if found is None or "intent" in step:
        return step
    return {"user": step["user"], "intent": found.group("intent")}


def plain_rasa_stories(path: Path = STORIES_FILE) -> str:
    """The subset in Rasa's own test-story format."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    stories = []
    for spec in data["stories"]:
        metadata = spec.get("metadata") or {}
        users = [str(step["user"]) for step in spec["steps"] if "user" in step]
        if metadata.get("given") or "rasa" not in metadata.get("engines", ENGINES):
            continue
        if any(mark in text for text in users for mark in PLACEHOLDERS):
            continue
        steps = [
            _with_intent(step)
            for step in spec["steps"]
            if "bot" not in step and not str(step.get("action", "")).startswith("utter_ask_")
        ]
        stories.append({"story": spec["story"], "steps": steps})
    body = yaml.safe_dump(
        {"version": data["version"], "stories": stories}, allow_unicode=True, sort_keys=False, width=200
    )
    return PLAIN_HEADER + body


def main() -> int:
    """Runs tests/assistant/test_conversations.py with the Rasa engine (extra pytest arguments pass on);
    `--export` writes the plain-Rasa subset instead."""
    if sys.argv[1:] == ["--export"]:
        PLAIN_FILE.write_text(plain_rasa_stories(), encoding="utf-8")
        return 0
    if not os.environ.get("JIANPEI_RASA_URL"):
        print(
            "JIANPEI_RASA_URL is not set: start a Rasa server (see README) and point it there",
            file=sys.stderr,
        )
        return 2
    os.environ[ENGINE_VARIABLE] = "rasa"
    story_tests = str(ROOT / "tests" / "assistant" / "test_conversations.py")
    return int(pytest.main(["-p", "no:randomly", "-k", "sqlite", story_tests, *sys.argv[1:]]))


if __name__ == "__main__":
    sys.exit(main())
