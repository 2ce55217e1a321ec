"""`JIANPEI_RASA_URL`: the dialogue runs on an external Rasa server; messages go to its REST channel
and its answers come back unchanged (its action server serves actions/). A photo goes as the trigger
payload `/send_photo` with the picture in metadata, which Rasa understands without its NLU."""

from __future__ import annotations

from typing import Any

import httpx

from bot.runtime.assistant import UserMessage
from bot.runtime.photo_message import as_photo_payload


class RemoteRasa:
    def __init__(self, base_url: str, http: httpx.AsyncClient | None = None) -> None:
        self.http = http or httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=60)

    async def handle(self, message: UserMessage) -> list[dict[str, Any]]:
        message = as_photo_payload(message)
        sender = message.sender_id.removeprefix(f"{message.channel}:")
        body: dict[str, Any] = {"sender": sender, "message": message.text}
        if message.metadata:
            body["metadata"] = message.metadata
        response = await self.http.post("/webhooks/rest/webhook", json=body)
        response.raise_for_status()
        answers: list[dict[str, Any]] = response.json()
        return [{k: v for k, v in answer.items() if k != "recipient_id"} for answer in answers]
