"""Binding a chat to a person: proven by an SMS code to the account's phone, or by a fresh login
token of that person (the registration flow logs in for the trainee)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from rules.identity import InvalidIdentity, mask_phone, normalize_phone
from services.auth import person_for_token
from services.chatlinks.keys import MAX_CHAT_ID, ServiceBackend, chat_id
from services.context import Backend
from services.errors import AppError
from services.sms.codes import CodePolicy, Purpose, check_code, raise_for
from storage.models import ChatBinding, Person, RegistryAccount

router = APIRouter(prefix="/api/assistant", tags=["助手 assistant"])


class BindRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=MAX_CHAT_ID)
    phone: str | None = Field(default=None, max_length=30)
    code: str | None = Field(default=None, max_length=10)
    token: str | None = Field(
        default=None, max_length=100, description="a fresh login token instead of a code"
    )
    system: Literal["registry", "learning"] = "registry"


class Binding(BaseModel):
    bound: bool
    name: str | None = None
    masked_phone: str | None = None


async def _person_by_code(backend: Backend, phone_raw: str, code: str) -> int:
    try:
        phone = normalize_phone(phone_raw)
    except InvalidIdentity as exc:
        raise AppError(422, "invalid_phone", str(exc)) from None
    async with backend.transaction() as session:  # a wrong try is counted even though we refuse
        verdict = await check_code(
            session,
            phone=phone,
            purpose=Purpose.BIND_CHAT,
            code=code,
            policy=CodePolicy.from_settings(backend.settings),
            secret=backend.settings.secret_key,
            now=backend.now(),
        )
    raise_for(verdict)
    async with backend.sessions() as session:
        person_id = await session.scalar(
            select(RegistryAccount.person_id).where(RegistryAccount.phone == phone)
        )
    if person_id is None:
        raise AppError(404, "not_registered", "这个手机号还没有注册管理系统账号，请先注册")
    return person_id


@router.post("/bindings", response_model=Binding, status_code=201)
async def bind(body: BindRequest, backend: ServiceBackend) -> Binding:
    """Link a chat to the person proven by an SMS code to their phone, or by their fresh login token."""
    if body.token:
        async with backend.sessions() as session:
            person_id = await person_for_token(
                session, system=body.system, token=body.token, now=backend.now()
            )
        if person_id is None:
            raise AppError(401, "unauthorized", "登录已过期，请重新登录")
    elif body.phone and body.code:
        person_id = await _person_by_code(backend, body.phone, body.code)
    else:
        raise AppError(422, "invalid_input", "缺少手机号或验证码")
    async with backend.transaction() as session:
        await bind_chat(session, body.sender_id, person_id, backend.now())
    return await binding_of(backend, body.sender_id)


async def bind_chat(session: AsyncSession, sender_id: str, person_id: int, now: datetime) -> None:
    """The chat becomes the person's, inside the caller's transaction; a chat bound to someone else is
    rebound, since whoever proves a person now holds the chat."""
    binding = await session.get(ChatBinding, sender_id)
    if binding is None:
        session.add(ChatBinding(sender_id=sender_id, person_id=person_id, bound_at=now))
    else:
        binding.person_id = person_id
        binding.bound_at = now


async def binding_of(backend: Backend, sender_id: str) -> Binding:
    async with backend.sessions() as session:
        row = (
            await session.execute(
                select(Person.name, RegistryAccount.phone)
                .select_from(ChatBinding)
                .join(Person, Person.id == ChatBinding.person_id)
                .outerjoin(RegistryAccount, RegistryAccount.person_id == Person.id)
                .where(ChatBinding.sender_id == sender_id)
            )
        ).first()
    if row is None:
        return Binding(bound=False)
    return Binding(bound=True, name=row.name, masked_phone=mask_phone(row.phone) if row.phone else None)


@router.get("/binding", response_model=Binding)
async def read_binding(
    backend: ServiceBackend, x_jianpei_chat: Annotated[str | None, Header()] = None
) -> Binding:
    """Whom the chat named by `X-Jianpei-Chat` is bound to."""
    return await binding_of(backend, chat_id(x_jianpei_chat))
