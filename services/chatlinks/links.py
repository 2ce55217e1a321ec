"""Carrying a binding from one chat to another: a bound chat (the web chat, WeChat) asks for a
one-time code, and the chat that presents it (Telegram's `/start <code>`, opened from a t.me link) is
bound to the same person exactly as an SMS code would bind it.

The code is the proof, so it is random (192 bits, Telegram's `[A-Za-z0-9_-]`), short-lived (10
minutes), used once, and kept only as a keyed hash: whoever reads the table cannot bind a chat with
it. The redeem that marks it used is the one that binds, in the same transaction, so two chats
presenting one code at once get one binding between them."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field
from sqlalchemy import delete, update

from services.chatlinks.bindings import Binding, bind_chat, binding_of
from services.chatlinks.keys import MAX_CHAT_ID, ServiceBackend, bound_person, chat_id
from services.errors import AppError
from storage.models import ChatLinkCode

router = APIRouter(prefix="/api/assistant/chat-links", tags=["助手 assistant"])

LIFETIME = timedelta(minutes=10)
KEEP = timedelta(days=7)  # spent and expired codes are forgotten after this, as new ones are made
CODE_BYTES = 24  # 32 characters of token_urlsafe; Telegram takes at most 64
_CODE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ASK_AGAIN = "请回到原来的对话说“用Telegram继续”重新要一个，或者在这里用手机号验证码绑定。"
UNKNOWN = "这个绑定链接不对。" + ASK_AGAIN
USED = "这个绑定链接已经用过了，每个链接只能用一次。" + ASK_AGAIN
EXPIRED = "这个绑定链接已经过期了（10分钟内有效）。" + ASK_AGAIN


class LinkCode(BaseModel):
    code: str = Field(description="one use, within `expires_at`; for a t.me/<bot>?start=<code> link")
    expires_at: datetime
    minutes: int = Field(description="how long it is valid, for telling the trainee")


class RedeemRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=MAX_CHAT_ID, description="the chat to bind")
    code: str = Field(max_length=200)


def _hash(secret_key: str, code: str) -> str:
    return hmac.new(secret_key.encode(), b"chat-link:" + code.encode(), hashlib.sha256).hexdigest()


@router.post("", response_model=LinkCode, status_code=201)
async def make(backend: ServiceBackend, x_jianpei_chat: Annotated[str | None, Header()] = None) -> LinkCode:
    """A one-time code binding another chat to the person the chat named by `X-Jianpei-Chat` is
    bound to; a chat bound to nobody has nobody to pass on (403)."""
    made_by = chat_id(x_jianpei_chat)
    person_id = await bound_person(backend, made_by)
    code = secrets.token_urlsafe(CODE_BYTES)
    now = backend.now()
    async with backend.transaction() as session:
        await session.execute(delete(ChatLinkCode).where(ChatLinkCode.expires_at < now - KEEP))
        session.add(
            ChatLinkCode(
                code_hash=_hash(backend.settings.secret_key, code),
                person_id=person_id,
                made_by=made_by,
                created_at=now,
                expires_at=now + LIFETIME,
            )
        )
    return LinkCode(code=code, expires_at=now + LIFETIME, minutes=int(LIFETIME.total_seconds() // 60))


@router.post("/redeem", response_model=Binding, status_code=201)
async def redeem(body: RedeemRequest, backend: ServiceBackend) -> Binding:
    """Bind `sender_id` to the code's person and spend the code, together; an unknown, spent or
    expired code changes nothing and says which it was."""
    if not _CODE.match(body.code):
        raise AppError(404, "link_unknown", UNKNOWN)
    code_hash = _hash(backend.settings.secret_key, body.code)
    now = backend.now()
    async with backend.transaction() as session:
        person_id = await session.scalar(
            update(ChatLinkCode)
            .where(
                ChatLinkCode.code_hash == code_hash,
                ChatLinkCode.used_at.is_(None),
                ChatLinkCode.expires_at > now,
            )
            .values(used_at=now, used_by=body.sender_id)
            .returning(ChatLinkCode.person_id)
        )
        if person_id is not None:
            await bind_chat(session, body.sender_id, person_id, now)
    if person_id is None:
        async with backend.sessions() as session:
            found = await session.get(ChatLinkCode, code_hash)
        if found is None:
            raise AppError(404, "link_unknown", UNKNOWN)
        if found.used_at is not None:
            raise AppError(409, "link_used", USED)
        raise AppError(410, "link_expired", EXPIRED)
    return await binding_of(backend, body.sender_id)
