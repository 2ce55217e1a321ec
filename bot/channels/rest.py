"""Rasa's REST channel: POST /webhooks/rest/webhook with {"sender", "message", "metadata"?} answers a
list of {"recipient_id", "text"?, "buttons"?, "image"?, "attachment"?, "custom"?} — a list even when
something fails inside (the apology). A photo travels as metadata.attachment = {"filename",
"content_base64"}.

Beside it, for the web chat: `history` (what a reloaded page shows) and `stream` (server-sent events
of what is pushed to the chat from outside a turn). Both take the sender in the body, never in the
URL: the sender id is the chat's only secret and URLs end up in logs."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

import structlog
from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import AfterValidator, BaseModel, Field

from bot.channels.base import UserMessage, conversation_id
from bot.channels.mailbox import Mailbox, stream_event
from bot.channels.text import plain_sender, storable_message
from bot.runtime.logid import chat_tag
from rules.help import APOLOGY

log = structlog.get_logger(__name__)

Handler = Callable[[UserMessage], Awaitable[list[dict[str, Any]]]]
Transcript = Callable[[str, int], Awaitable[list[tuple[datetime, str, dict[str, Any]]] | None]]
HISTORY_LINES = 60


# stored as "rest:<sender>" in 200 characters; NUL or a lone surrogate is refused, not stored
Sender = Annotated[str, Field(min_length=1, max_length=190), AfterValidator(plain_sender)]


class Attachment(BaseModel):
    filename: str = Field(default="photo.jpg", max_length=200)
    content_base64: str


class Metadata(BaseModel, extra="allow"):
    attachment: Attachment | None = None


class Incoming(BaseModel):
    sender: Sender
    # length is judged by the assistant, which answers in words; unstorable characters are dropped
    message: Annotated[str | None, AfterValidator(storable_message)] = ""
    metadata: Metadata | None = None


class ChatRef(BaseModel):
    sender: Sender


class StreamFrom(ChatRef):
    after: int = Field(default=0, ge=0, description="the id of the last pushed message the page has")


class HistoryLine(BaseModel, extra="allow"):
    """One bubble: who said it, and the answer's own fields (text, buttons, image, attachment)."""

    by: str
    push_id: int | None = None


class History(BaseModel):
    lines: list[HistoryLine]
    after: int = Field(description="resume the stream after this pushed message")


def rest_router(
    handle: Handler, mailbox: Mailbox, transcript: Transcript, channel: str = "rest"
) -> APIRouter:
    router = APIRouter(tags=["聊天 chat"])

    @router.post("/webhooks/rest/webhook")
    async def webhook(body: Incoming) -> list[dict[str, Any]]:
        """One message in, the assistant's answers out (Rasa's REST channel)."""
        metadata: dict[str, Any] = {}
        if body.metadata is not None and body.metadata.attachment is not None:
            metadata["attachment"] = body.metadata.attachment.model_dump()
        # Conversations are keyed by channel and sender, so no REST client can speak for a chat of
        # another channel (a Telegram user, say) by naming its id.
        sender_id = conversation_id(channel, body.sender)
        try:
            answers = await handle(UserMessage(body.message or "", sender_id, channel, metadata))
        except Exception as exc:  # the chat gets Rasa's answer shape whatever broke inside
            error_id = secrets.token_hex(4)
            log.error("turn_failed", error_id=error_id, chat=chat_tag(sender_id), error=type(exc).__name__)
            answers = [{"text": f"{APOLOGY}（错误编号 {error_id}）"}]
        return [{"recipient_id": body.sender, **answer} for answer in answers]

    @router.post("/webhooks/rest/history", response_model=History)
    async def history(body: ChatRef) -> History:
        """The chat's recent messages, both ways and pushed ones, for a page that was reloaded."""
        sender_id = conversation_id(channel, body.sender)
        spoken = await transcript(sender_id, HISTORY_LINES) or []
        pushed = await mailbox.latest(sender_id, HISTORY_LINES)
        lines = [(at, 0, HistoryLine(by=by, **message)) for at, by, message in spoken]
        lines += [(p.at, 1, HistoryLine(by="bot", push_id=p.id, **p.answer)) for p in pushed]
        lines.sort(key=lambda line: (line[0], line[1]))
        return History(
            lines=[line for _at, _kind, line in lines[-HISTORY_LINES:]],
            after=pushed[-1].id if pushed else 0,
        )

    @router.post(
        "/webhooks/rest/stream",
        response_class=StreamingResponse,
        responses={404: {"description": "a chat never seen: nothing to stream"}},
    )
    async def stream(body: StreamFrom) -> Response:
        """Server-sent events: every message pushed to the chat after `after`, as it comes; a comment
        line every few seconds keeps proxies from closing a quiet stream."""
        sender_id = conversation_id(channel, body.sender)
        if await transcript(sender_id, 1) is None and not await mailbox.since(sender_id):
            # a made-up sender id gets nothing, not even a stream held open for it
            return JSONResponse({"error": {"code": "unknown_chat", "message": "没有这个对话"}}, 404)

        async def events() -> AsyncIterator[str]:
            after = body.after
            while True:
                found = await mailbox.wait(sender_id, after)
                for pushed in found:
                    after = pushed.id
                    yield stream_event(pushed)
                if not found:
                    yield ": waiting\n\n"

        return StreamingResponse(
            events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return router
