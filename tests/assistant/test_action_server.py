"""actions/ served unchanged by rasa-sdk's own action server (`python -m rasa_sdk --actions actions`),
as a Rasa server would call it: the JSON the embedded runtime builds, over HTTP, answered from the
backend the action server reaches at JIANPEI_BACKEND_URL."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from bot.app import create_assistant_app
from bot.runtime.domain import load_domain
from bot.runtime.executor import RASA_VERSION
from bot.runtime.tracker import DialogueTracker, user_event
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.chatlinks.keys import service_key
from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import bind_demo_trainee
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.served import until_healthy

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(params=["rasa_sdk", "jianpei actions"])
async def action_server(
    request: pytest.FixtureRequest, backend: Backend, interpreter: Interpreter
) -> AsyncIterator[tuple[str, str]]:
    """(action server URL, backend URL): the standalone action server pointed at the served backend —
    rasa-sdk's own, given the service key, or `jianpei actions`, which derives it from the secret."""
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as backend_url:
        port = free_port()
        env = {
            **os.environ,
            "JIANPEI_BACKEND_URL": backend_url,
            "JIANPEI_ENV": "test",
            "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
        }
        if request.param == "rasa_sdk":
            env["JIANPEI_SERVICE_KEY"] = service_key(backend.settings.secret_key)
            command = (sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port))
        else:
            env["JIANPEI_SECRET_KEY"] = backend.settings.secret_key
            command = (str(Path(sys.executable).parent / "jianpei"), "actions", "--port", str(port))
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await until_healthy(url, process)  # rasa_sdk logs "up and running" before it listens
            yield url, backend_url
        finally:
            process.terminate()
            await process.wait()


async def test_rasa_sdk_action_server_runs_our_actions(
    action_server: tuple[str, str], backend: Backend
) -> None:
    url, backend_url = action_server
    await load_demo_data(backend)
    async with httpx.AsyncClient(base_url=backend_url) as http:
        await bind_demo_trainee(http, backend, "rasa-sender")
    domain = load_domain()
    tracker = DialogueTracker(sender_id="rasa-sender", domain=domain)
    parse = {
        "text": "/certificate_status",
        "intent": {"name": "certificate_status", "confidence": 1.0},
        "entities": [],
    }
    tracker.add(user_event(parse, ts=0.0, channel="rest", metadata={}))
    call = {
        "next_action": "action_list_certificates",
        "sender_id": "rasa-sender",
        "tracker": tracker.state(),
        "domain": domain.as_dict(),
        "version": RASA_VERSION,
    }
    async with httpx.AsyncClient(timeout=60) as http:
        listed = (await http.post(f"{url}/webhook", json=call)).json()
        actions = (await http.get(f"{url}/actions")).json()
    texts = "\n".join(r.get("text") or "" for r in listed["responses"])
    assert "221175" in texts and "非正常" in texts
    assert {"action_list_certificates", "validate_registration_form", "action_handoff"} <= {
        a["name"] for a in actions
    }


async def test_jianpei_actions_hands_the_telegram_token_from_env_file_to_its_actions(
    backend: Backend, interpreter: Interpreter, tmp_path: Path
) -> None:
    """An operator keeps the bot's token in `.env`, not in the shell: the link action of a standalone
    action server still knows the bot (asks Telegram's getMe) and gives a bound web chat its link."""
    from tests.telegram.fake_api import TOKEN, FakeTelegram

    telegram = FakeTelegram()
    await telegram.start()
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    try:
        async with uvicorn_serving(app) as backend_url:
            await load_demo_data(backend)
            async with httpx.AsyncClient(base_url=backend_url) as http:
                await bind_demo_trainee(http, backend, "web:env-file")
            (tmp_path / ".env").write_text(
                f"JIANPEI_TELEGRAM_TOKEN={TOKEN}\nJIANPEI_TELEGRAM_API_BASE={telegram.base}\n"
                f"JIANPEI_BACKEND_URL={backend_url}\nJIANPEI_SECRET_KEY={backend.settings.secret_key}\n"
                f"JIANPEI_DATA_DIR={backend.settings.data_dir}\nJIANPEI_ENV=test\n"
            )
            environment = {k: v for k, v in os.environ.items() if not k.startswith("JIANPEI_")}
            port = free_port()
            process = await asyncio.create_subprocess_exec(
                str(Path(sys.executable).parent / "jianpei"),
                "actions",
                "--port",
                str(port),
                cwd=tmp_path,  # where its .env is
                env=environment,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
            )
            try:
                url = f"http://127.0.0.1:{port}"
                await until_healthy(url, process)
                async with httpx.AsyncClient(timeout=60) as http:
                    domain = load_domain()
                    tracker = DialogueTracker(sender_id="web:env-file", domain=domain)
                    parse = {"text": "用Telegram继续", "intent": {"name": "telegram_link", "confidence": 1.0}}
                    tracker.add(user_event({**parse, "entities": []}, ts=0.0, channel="web", metadata={}))
                    call = {
                        "next_action": "action_telegram_link",
                        "sender_id": "web:env-file",
                        "tracker": tracker.state(),
                        "domain": domain.as_dict(),
                        "version": RASA_VERSION,
                    }
                    answered = (await http.post(f"{url}/webhook", json=call)).json()
            finally:
                process.kill()
                await process.wait()
    finally:
        await telegram.stop()
    said = "\n".join(r.get("text") or "" for r in answered["responses"])
    assert "https://t.me/" in said and "?start=" in said, said
    assert [c.method for c in telegram.calls] == ["getMe"]
