"""Rasa's REST channel: POST /webhooks/rest/webhook with {"sender", "message", "metadata"?} answers a
list of {"recipient_id", "text"?, "buttons"?, "image"?, "attachment"?, "custom"?}. A photo travels as
metadata.attachment = {"filename", "content_base64"}."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from bot.runtime.assistant import UserMessage

Handler = Callable[[UserMessage], Awaitable[list[dict[str, Any]]]]


class Attachment(BaseModel):
    filename: str = Field(default="photo.jpg", max_length=200)
    content_base64: str


class Metadata(BaseModel, extra="allow"):
    attachment: Attachment | None = None


class Incoming(BaseModel):
    sender: str = Field(min_length=1, max_length=190)  # stored as "rest:<sender>" in 200 characters
    message: str | None = ""  # length is judged by the assistant, which answers in words
    metadata: Metadata | None = None


def rest_router(handle: Handler, channel: str = "rest") -> APIRouter:
    router = APIRouter(tags=["聊天 chat"])

    @router.post("/webhooks/rest/webhook")
    async def webhook(body: Incoming) -> list[dict[str, Any]]:
        """One message in, the assistant's answers out (Rasa's REST channel)."""
        metadata: dict[str, Any] = {}
        if body.metadata is not None and body.metadata.attachment is not None:
            metadata["attachment"] = body.metadata.attachment.model_dump()
        # Conversations are keyed by channel and sender, so no REST client can speak for a chat of
        # another channel (a Telegram user, say) by naming its id.
        sender_id = f"{channel}:{body.sender}"
        answers = await handle(UserMessage(body.message or "", sender_id, channel, metadata))
        return [{"recipient_id": body.sender, **answer} for answer in answers]

    return router
