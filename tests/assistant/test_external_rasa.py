"""JIANPEI_RASA_URL: the REST channel hands messages to an external Rasa server's REST channel and
relays its answers. A stand-in plays the Rasa server (it is outside this machine in production)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from tests.assistant.test_end_to_end import uvicorn_serving


def stand_in_rasa(received: list[dict[str, Any]]) -> FastAPI:
    rasa = FastAPI()

    @rasa.post("/webhooks/rest/webhook")
    async def webhook(body: dict[str, Any]) -> list[dict[str, Any]]:
        received.append(body)
        return [
            {
                "recipient_id": body["sender"],
                "text": "来自 Rasa 的回答",
                "buttons": [{"title": "好", "payload": "/affirm"}],
            }
        ]

    return rasa


async def test_messages_go_to_the_external_rasa_server(backend: Backend, interpreter: Interpreter) -> None:
    received: list[dict[str, Any]] = []
    async with uvicorn_serving(stand_in_rasa(received)) as rasa_url:
        settings = AssistantSettings(rasa_url=rasa_url, _env_file=None)  # type: ignore[call-arg]
        app = create_assistant_app(backend, settings, interpreter)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test"
        ) as http:
            photo = {"attachment": {"filename": "me.jpg", "content_base64": "AAAA"}}
            answer = await http.post(
                "/webhooks/rest/webhook", json={"sender": "s1", "message": "我的照片", "metadata": photo}
            )
    assert answer.json() == [
        {"recipient_id": "s1", "text": "来自 Rasa 的回答", "buttons": [{"title": "好", "payload": "/affirm"}]}
    ]
    # the trigger payload: Rasa's classifier cannot read an empty text, and a caption is no question
    assert received == [{"sender": "s1", "message": "/send_photo", "metadata": photo}]
