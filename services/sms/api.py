"""HTTP: ask for a verification code."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from rules.identity import InvalidIdentity, normalize_phone
from services.context import Backend, get_backend
from services.errors import AppError
from services.sms.codes import CodePolicy, Purpose, send_code

router = APIRouter(prefix="/api/sms", tags=["短信 SMS"])


class CodeRequest(BaseModel):
    phone: str = Field(max_length=30)
    purpose: Purpose


class CodeSent(BaseModel):
    phone: str
    resend_after: datetime


@router.post("/codes", status_code=202, response_model=CodeSent)
async def request_code(body: CodeRequest, backend: Annotated[Backend, Depends(get_backend)]) -> CodeSent:
    """Send a 6-digit code to the phone (the default gateway keeps it in the outbox)."""
    try:
        phone = normalize_phone(body.phone)
    except InvalidIdentity as exc:
        raise AppError(422, "invalid_phone", str(exc)) from None
    async with backend.transaction() as session:
        resend_after = await send_code(
            session,
            backend.sms,
            phone=phone,
            purpose=body.purpose,
            policy=CodePolicy.from_settings(backend.settings),
            secret=backend.settings.secret_key,
            now=backend.now(),
        )
    return CodeSent(phone=phone, resend_after=resend_after)
