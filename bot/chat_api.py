"""The backend's side of chats, called only by actions/: bind a chat to a person once an SMS code
(or a fresh login of that person) proves it, hand a bound chat short-lived tokens of both systems.
Every call needs the assistant's service key."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, UploadFile
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.auth import open_session, person_for_token
from services.context import Backend, get_backend
from services.errors import AppError
from services.identity import InvalidIdentity, mask_phone, normalize_phone
from services.learning.accounts import SYSTEM as LEARNING
from services.learning.accounts import pull_certificates
from services.photos import GUIDANCE, WHITE_ONLY, fix_photo_async
from services.security import bearer
from services.sms.codes import CodePolicy, Purpose, check_code, raise_for
from storage.models import ChatBinding, LearningAccount, Person, RegistryAccount

router = APIRouter(prefix="/api/assistant", tags=["助手 assistant"], include_in_schema=True)
TOKEN_LIFETIME = timedelta(minutes=10)


def service_key(secret_key: str) -> str:
    """The key actions present; derived from the shared secret so nothing more needs configuring."""
    return hmac.new(secret_key.encode(), b"jianpei-assistant-actions", hashlib.sha256).hexdigest()


async def require_service(
    backend: Annotated[Backend, Depends(get_backend)], authorization: Annotated[str | None, Header()] = None
) -> Backend:
    if not hmac.compare_digest(
        bearer(authorization).encode(), service_key(backend.settings.secret_key).encode()
    ):
        raise AppError(403, "forbidden", "没有权限")
    return backend


ServiceBackend = Annotated[Backend, Depends(require_service)]


class BindRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
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


class TokenRequest(BaseModel):
    sender_id: str = Field(min_length=1, max_length=200)
    system: Literal["registry", "learning"] = "registry"


class Token(BaseModel):
    token: str


class PhotoProblem(BaseModel):
    code: str
    message: str
    fixable: bool


class PhotoChecked(BaseModel):
    ok: bool
    problems: list[PhotoProblem]
    fixed_base64: str | None = Field(
        description="a photo that passes, when the original does or could be fixed"
    )
    changed: bool
    guidance: str


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
        binding = await session.get(ChatBinding, body.sender_id)
        if binding is None:
            session.add(ChatBinding(sender_id=body.sender_id, person_id=person_id, bound_at=backend.now()))
        else:
            binding.person_id = person_id
            binding.bound_at = backend.now()
    return await _binding(backend, body.sender_id)


async def _binding(backend: Backend, sender_id: str) -> Binding:
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


@router.get("/bindings/{sender_id}", response_model=Binding)
async def read_binding(sender_id: str, backend: ServiceBackend) -> Binding:
    return await _binding(backend, sender_id)


@router.post("/tokens", response_model=Token)
async def token_for_chat(body: TokenRequest, backend: ServiceBackend) -> Token:
    """A ten-minute token of `system` for the person this chat is bound to; 403 when it is not bound.

    Like a login on the platform, it first pulls certificates the authority uploaded since."""
    async with backend.sessions() as session:
        binding = await session.get(ChatBinding, body.sender_id)
    if binding is None:
        raise AppError(403, "not_bound", "请先绑定您的账号")
    if body.system == LEARNING:
        try:
            async with backend.transaction() as session:
                account = await session.scalar(
                    select(LearningAccount).where(LearningAccount.person_id == binding.person_id)
                )
                if account is not None:
                    await pull_certificates(session, account, now=backend.now())
        except IntegrityError:  # another chat of the same person pulled them at the same moment
            pass
    async with backend.transaction() as session:
        token, _expires = await open_session(
            session,
            system=body.system,
            person_id=binding.person_id,
            now=backend.now(),
            lifetime=TOKEN_LIFETIME,
        )
    return Token(token=token)


@router.post("/photo-checks", response_model=PhotoChecked)
async def check_photo(file: UploadFile, backend: ServiceBackend) -> PhotoChecked:
    """The photo check for the management system (white background), with the fixed photo to offer."""
    outcome = await fix_photo_async(await file.read(), backgrounds=WHITE_ONLY)
    fixed = outcome.fixed
    return PhotoChecked(
        ok=outcome.original.ok,
        problems=[
            PhotoProblem(code=p.code, message=p.message, fixable=p.fixable) for p in outcome.original.problems
        ],
        fixed_base64=base64.b64encode(fixed.data).decode() if fixed is not None else None,
        changed=fixed is not None and fixed.changed,
        guidance=GUIDANCE,
    )
