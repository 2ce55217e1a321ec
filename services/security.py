"""Who is calling: a trainee's bearer token for one system, or the operator's admin token."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header

from services.auth import person_for_token
from services.chatlinks.keys import bound_person, chat_id, is_service_key
from services.context import Backend, get_backend
from services.errors import AppError


def bearer(authorization: str | None) -> str:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise AppError(401, "unauthorized", "请先登录")
    return token.strip()


async def authenticated_person(
    backend: Backend, system: str, authorization: str | None, chat: str | None = None
) -> int:
    """The person id behind a valid, unexpired token of `system` — or, when the assistant calls with
    its service key and names a chat, the person that chat is bound to."""
    token = bearer(authorization)
    if chat is not None and is_service_key(backend, token):
        return await bound_person(backend, chat_id(chat))
    async with backend.sessions() as session:
        person_id = await person_for_token(session, system=system, token=token, now=backend.now())
    if person_id is None:
        raise AppError(401, "unauthorized", "登录已过期，请重新登录")
    return person_id


async def require_admin(
    backend: Annotated[Backend, Depends(get_backend)],
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """Admin endpoints exist only when JIANPEI_ADMIN_TOKEN is set, and need exactly that token."""
    expected = backend.settings.admin_token
    if not expected:
        raise AppError(403, "admin_disabled", "管理接口未启用（未设置 JIANPEI_ADMIN_TOKEN）")
    if not hmac.compare_digest(bearer(authorization).encode(), expected.encode()):
        raise AppError(403, "forbidden", "管理口令不对")
