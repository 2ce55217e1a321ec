"""A password changed in chat. The chat was bound by a code texted to the account's phone — the proof
a reset of a forgotten password asks for — so the old password is not asked again; the new one must
pass the same strength rules, and it replaces the password of every account the person has (管理系统
and 继续教育平台 share the login, so they keep sharing the password). Other logins end."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.auth import check_new_password, close_all_sessions, hash_password
from services.chatlinks.keys import ServiceBackend, bound_person, chat_id
from services.errors import AppError
from services.learning.accounts import SYSTEM as LEARNING
from services.registry.accounts import SYSTEM as REGISTRY
from storage.models import LearningAccount, Person, RegistryAccount

router = APIRouter(prefix="/api/assistant", tags=["助手 assistant"])


class NewPassword(BaseModel):
    new_password: str = Field(max_length=100)


class PasswordChanged(BaseModel):
    systems: list[str] = Field(description="registry, learning: the accounts whose password changed")
    message: str


@router.put("/password", response_model=PasswordChanged)
async def change_password(
    body: NewPassword, backend: ServiceBackend, x_jianpei_chat: Annotated[str | None, Header()] = None
) -> PasswordChanged:
    """The bound person's new password, for both systems' accounts; a weak one changes nothing (422)."""
    person_id = await bound_person(backend, chat_id(x_jianpei_chat))
    async with backend.transaction() as session:
        person = await session.get(Person, person_id)
        registry = await session.scalar(select(RegistryAccount).where(RegistryAccount.person_id == person_id))
        learning = await session.scalar(select(LearningAccount).where(LearningAccount.person_id == person_id))
        if person is None or registry is None:
            raise AppError(404, "not_found", "账号不存在")
        accounts = {REGISTRY: registry} | ({LEARNING: learning} if learning is not None else {})
        for account in accounts.values():
            check_new_password(body.new_password, phone=account.phone, id_number=person.id_number)
        password_hash = await hash_password(body.new_password)
        for system, account in accounts.items():
            account.password_hash = password_hash
            account.must_change_password = False
            await close_all_sessions(session, system=system, person_id=person_id)
    both = len(accounts) == 2
    names = "管理系统和继续教育平台的密码都" if both else "管理系统的密码"
    return PasswordChanged(systems=list(accounts), message=f"{names}改好了，下次登录用新密码。")
