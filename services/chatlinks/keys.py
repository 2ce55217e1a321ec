"""Who may speak for a chat: the assistant, proving itself with the service key, names the chat in
the `X-Jianpei-Chat` header (percent-encoded; never in a URL, which ends up in logs) and is then
served as the person that chat is bound to — one request, no login token minted per call."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Header
from sqlalchemy import select

from services.context import Backend, get_backend
from services.errors import AppError
from storage.models import ChatBinding

CHAT_HEADER = "X-Jianpei-Chat"
MAX_CHAT_ID = 200


def service_key(secret_key: str) -> str:
    """The key the assistant presents; derived from the shared secret so nothing more needs
    configuring."""
    return hmac.new(secret_key.encode(), b"jianpei-assistant-actions", hashlib.sha256).hexdigest()


def is_service_key(backend: Backend, presented: str) -> bool:
    return hmac.compare_digest(presented.encode(), service_key(backend.settings.secret_key).encode())


def chat_id(raw: str | None) -> str:
    """The chat named by the header, decoded; a missing or unusable one is refused."""
    decoded = unquote(raw or "", errors="strict") if raw else ""
    if not decoded or len(decoded) > MAX_CHAT_ID or "\x00" in decoded:
        raise AppError(422, "invalid_chat", "缺少对话编号")
    return decoded


async def require_service(
    backend: Annotated[Backend, Depends(get_backend)], authorization: Annotated[str | None, Header()] = None
) -> Backend:
    scheme, _, presented = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not is_service_key(backend, presented.strip()):
        raise AppError(403, "forbidden", "没有权限")
    return backend


ServiceBackend = Annotated[Backend, Depends(require_service)]


async def bound_person(backend: Backend, chat: str) -> int:
    """The person the chat is bound to; 403 when it is bound to nobody."""
    async with backend.sessions() as session:
        person_id = await session.scalar(select(ChatBinding.person_id).where(ChatBinding.sender_id == chat))
    if person_id is None:
        raise AppError(403, "not_bound", "请先绑定您的账号")
    return person_id
