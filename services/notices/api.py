"""Routes of the notices: the assistant's scheduler (service key) asks what is due, claims a batch,
reports each result; a chat opts its person out of reminders; operators run broadcasts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field
from sqlalchemy import select

from services.chatlinks.keys import ServiceBackend, bound_person, chat_id
from services.context import BackendDep
from services.errors import AppError
from services.notices import broadcasts, ledger, manners
from services.notices.reminders import run_rules
from services.security import require_admin
from storage.models import NoticeBroadcast, NoticeOptOut
from storage.models.notices import NoticeState

router = APIRouter(prefix="/api/assistant/notices", tags=["助手 assistant"])
admin_router = APIRouter(
    prefix="/api/admin/broadcasts", tags=["管理员 admin"], dependencies=[Depends(require_admin)]
)


class Due(BaseModel):
    recorded: int
    expired: int


@router.post("/due", response_model=Due)
async def due(backend: ServiceBackend) -> Due:
    """Run the reminder rules and close claims whose lease ran out (they become unknown)."""
    now = backend.now()
    async with backend.transaction() as session:
        expired = await ledger.expire_claims(session, now)
        recorded = await run_rules(session, now, backend.settings)
    return Due(recorded=recorded, expired=expired)


class ClaimRequest(BaseModel):
    limit: int = Field(default=50, ge=1, le=500)
    lease_seconds: float = Field(default=120, ge=1, le=3600)


class ClaimedOut(BaseModel):
    id: int
    kind: str
    params: dict[str, Any]
    claim_token: str
    chats: list[str]
    has_phone: bool
    broadcast_id: int | None


@router.post("/claim", response_model=list[ClaimedOut])
async def claim(body: ClaimRequest, backend: ServiceBackend) -> list[ClaimedOut]:
    """Up to `limit` notices that may go now, each held by the caller for the lease; nothing
    during the quiet hours (21:00-08:00 China time unless configured)."""
    async with backend.transaction() as session:
        taken = await ledger.claim(
            session,
            now=backend.now(),
            limit=body.limit,
            lease=timedelta(seconds=body.lease_seconds),
            quiet=manners.quiet_hours(backend.settings.notices_quiet_hours),
        )
    return [ClaimedOut(**vars(notice)) for notice in taken]


class CancelledRequest(BaseModel):
    broadcast_ids: list[int] = Field(max_length=1000)


class CancelledOut(BaseModel):
    cancelled: list[int]


@router.post("/cancelled", response_model=CancelledOut)
async def cancelled(body: CancelledRequest, backend: ServiceBackend) -> CancelledOut:
    """Which of these broadcasts an operator cancelled: the scheduler asks while sending one, and
    drops their notices not yet sent."""
    async with backend.sessions() as session:
        found = await session.scalars(
            select(NoticeBroadcast.id).where(
                NoticeBroadcast.id.in_(body.broadcast_ids), NoticeBroadcast.cancelled_at.is_not(None)
            )
        )
        return CancelledOut(cancelled=sorted(found))


class ResultItem(BaseModel):
    id: int
    claim_token: str = Field(max_length=32)
    state: Literal["sent", "failed", "blocked", "cancelled", "unknown"]
    message_ids: list[str] = Field(default_factory=list, max_length=50)
    detail: str | None = Field(default=None, max_length=200)


class ResultOut(BaseModel):
    id: int
    state: str
    via: str | None


class ResultsRequest(BaseModel):
    results: list[ResultItem] = Field(min_length=1, max_length=500)


class ResultsOut(BaseModel):
    recorded: list[int]
    stale: list[int]


@router.post("/results", response_model=ResultsOut)
async def results(body: ResultsRequest, backend: ServiceBackend) -> ResultsOut:
    """Many deliveries' results in one transaction (what a busy scheduler reports); a result whose
    claim is no longer held is left out and named stale."""
    now = backend.now()
    async with backend.transaction() as session:
        found = await ledger.held_many(session, {item.id: item.claim_token for item in body.results})
        for item in body.results:
            if item.id in found:
                ledger.finish(
                    found[item.id],
                    state=item.state,
                    now=now,
                    via="chat" if item.state != NoticeState.CANCELLED else None,
                    message_ids=item.message_ids,
                    detail=item.detail,
                )
    stale = [item.id for item in body.results if item.id not in found]
    return ResultsOut(recorded=sorted(found), stale=stale)


class SmsRequest(BaseModel):
    claim_token: str = Field(max_length=32)
    text: str = Field(min_length=1, max_length=500)


@router.post("/{notice_id}/sms", response_model=ResultOut)
async def by_sms(notice_id: int, body: SmsRequest, backend: ServiceBackend) -> ResultOut:
    """Deliver a claimed notice by SMS (its person has no chat), through the backend's gateway,
    and record it sent in the same transaction."""
    now = backend.now()
    async with backend.transaction() as session:
        try:
            notice = await ledger.held(session, notice_id, body.claim_token)
        except ledger.StaleClaim:
            raise AppError(409, "stale_claim", "这条通知不在本次领取中") from None
        phone = await ledger.phone_of(session, notice.person_id)
        if phone is None:
            ledger.finish(
                notice, state=NoticeState.FAILED, now=now, via="sms", message_ids=[], detail="no_phone"
            )
        else:
            await backend.sms.send(
                session, phone=phone, kind=f"notice_{notice.kind}", text=body.text, now=now
            )
            ledger.finish(notice, state=NoticeState.SENT, now=now, via="sms", message_ids=[], detail=None)
        return ResultOut(id=notice_id, state=notice.state, via="sms")


class OptOut(BaseModel):
    opted_out: bool


@router.put("/opt-out", response_model=OptOut)
async def opt_out(backend: ServiceBackend, x_jianpei_chat: Annotated[str | None, Header()] = None) -> OptOut:
    """退订提醒 for the person the chat is bound to: reminders and broadcasts stop, completion
    notices still come."""
    person_id = await bound_person(backend, chat_id(x_jianpei_chat))
    async with backend.transaction() as session:
        if await session.get(NoticeOptOut, person_id) is None:
            session.add(NoticeOptOut(person_id=person_id, opted_out_at=backend.now()))
    return OptOut(opted_out=True)


@router.delete("/opt-out", response_model=OptOut)
async def opt_in(backend: ServiceBackend, x_jianpei_chat: Annotated[str | None, Header()] = None) -> OptOut:
    """恢复提醒."""
    person_id = await bound_person(backend, chat_id(x_jianpei_chat))
    async with backend.transaction() as session:
        found = await session.get(NoticeOptOut, person_id)
        if found is not None:
            await session.delete(found)
    return OptOut(opted_out=False)


class PreviewOut(BaseModel):
    people: int
    chats: int
    sms_only: int


class BroadcastOut(BaseModel):
    id: int
    text: str
    audience: dict[str, Any]
    start_at: datetime
    recipients: int
    operator: str
    cancelled: bool
    created_at: datetime
    counts: dict[str, int]
    finished: int


@admin_router.post("/preview", response_model=PreviewOut)
async def preview(audience: broadcasts.Audience, backend: BackendDep) -> PreviewOut:
    """How many people and chats the audience reaches; nothing is queued."""
    async with backend.sessions() as session:
        found = await broadcasts.preview(session, audience, backend.now())
    return PreviewOut(people=found.people, chats=found.chats, sms_only=found.sms_only)


async def _out(backend: BackendDep, broadcast_id: int) -> BroadcastOut:
    async with backend.sessions() as session:
        broadcast = await session.get(NoticeBroadcast, broadcast_id)
        if broadcast is None:
            raise AppError(404, "broadcast_not_found", f"没有编号为 {broadcast_id} 的群发")
        return BroadcastOut(**broadcasts.summary(broadcast, await broadcasts.counts(session, broadcast_id)))


@admin_router.post("", response_model=BroadcastOut, status_code=201)
async def create(body: broadcasts.BroadcastRequest, backend: BackendDep) -> BroadcastOut:
    """Queue a broadcast: one notice per person of the audience, sent from `start_at`."""
    async with backend.transaction() as session:
        broadcast = await broadcasts.create(session, body, operator="api", now=backend.now())
    return await _out(backend, broadcast.id)


@admin_router.get("", response_model=list[BroadcastOut])
async def list_all(backend: BackendDep) -> list[BroadcastOut]:
    async with backend.sessions() as session:
        ids = list(
            await session.scalars(select(NoticeBroadcast.id).order_by(NoticeBroadcast.id.desc()).limit(100))
        )
    return [await _out(backend, broadcast_id) for broadcast_id in ids]


@admin_router.get("/{broadcast_id}", response_model=BroadcastOut)
async def status(broadcast_id: int, backend: BackendDep) -> BroadcastOut:
    """Sent, waiting, failed, blocked, opted out so far."""
    return await _out(backend, broadcast_id)


@admin_router.post("/{broadcast_id}/cancel", response_model=BroadcastOut)
async def cancel(broadcast_id: int, backend: BackendDep) -> BroadcastOut:
    """Nothing more goes out; what was sent stays marked sent."""
    async with backend.transaction() as session:
        await broadcasts.cancel(session, broadcast_id, backend.now())
    return await _out(backend, broadcast_id)
