"""Operator endpoints (JIANPEI_ADMIN_TOKEN): the authority's certificate upload, the SMS outbox and
resetting a pre-empted account."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel

from services.context import BackendDep
from services.errors import AppError
from services.registry.certificate_import import UnreadableFile, import_certificates
from services.registry.reset import reset_account
from services.registry.schemas import AccountResetOut, AccountResetRequest, ImportErrorOut, ImportOut
from services.security import require_admin
from services.sms.outbox import recent_messages

router = APIRouter(prefix="/api/admin", tags=["管理员 admin"], dependencies=[Depends(require_admin)])


@router.post("/certificates/import", response_model=ImportOut)
async def import_certificate_csv(
    request: Request, backend: BackendDep, skip_invalid: Annotated[bool, Query()] = False
) -> ImportOut:
    """Upload the authority's CSV as the request body (`Content-Type: text/csv`, UTF-8; up to
    `JIANPEI_MAX_CSV_BYTES`, 32 MiB by default)."""
    data = await request.body()
    try:
        async with backend.transaction() as session:
            report = await import_certificates(
                session, data, today=backend.now().date(), skip_invalid=skip_invalid
            )
    except UnreadableFile as exc:
        raise AppError(422, "unreadable_csv", str(exc)) from None
    result = report.result
    return ImportOut(
        imported=report.imported,
        created=result.created if result else 0,
        updated=result.updated if result else 0,
        unchanged=result.unchanged if result else 0,
        errors=[ImportErrorOut(line=error.line, message=error.message) for error in report.errors],
    )


class SmsOut(BaseModel):
    phone: str
    kind: str
    text: str
    status: str
    created_at: datetime


@router.get("/sms-outbox", response_model=list[SmsOut])
async def sms_outbox(
    backend: BackendDep,
    phone: Annotated[str | None, Query(max_length=11)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[SmsOut]:
    """The newest messages first."""
    async with backend.sessions() as session:
        return [
            SmsOut.model_validate(message, from_attributes=True)
            for message in await recent_messages(session, phone=phone, limit=limit)
        ]


@router.post("/registry/account-resets", status_code=201, response_model=AccountResetOut)
async def reset_registry_account(body: AccountResetRequest, backend: BackendDep) -> AccountResetOut:
    """After checking the caller's identity: remove the person's logins, phones, photo and chat
    bindings so they can register again with their own phone; certificates and learning stay."""
    record = await reset_account(
        backend, id_number=body.id_number, reason=body.reason, operator=body.operator, via="api"
    )
    return AccountResetOut.model_validate(record, from_attributes=True)
