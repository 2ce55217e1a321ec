"""Operator broadcasts: an audience chosen by certificate, a text, a start time. Creating one
records a notice per person in the same transaction, so a broadcast is queued whole or not at all;
the assistant's scheduler delivers it like any other notice, and cancelling closes what still waits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.positions import Category, canonical_position
from services.errors import AppError
from services.notices import manners
from services.notices.ledger import add_notice
from services.notices.manners import CHINA
from storage.models import (
    Certificate,
    ChatBinding,
    HoursRecord,
    LearningAccount,
    Notice,
    NoticeBroadcast,
    RegistryAccount,
)
from storage.models.notices import NoticeState

MAX_TEXT = 4000  # one Telegram message; longer texts are refused, not split
PAST_GRACE = timedelta(minutes=1)
STATUSES = ("正常", "非正常")


class Audience(BaseModel):
    """Everyone reachable (an account or a chat) holding a certificate that matches every given field."""

    status: str | None = Field(default=None, description="证书状态：正常 / 非正常")
    position: str | None = Field(default=None, max_length=30, description="岗位，如 安全员")
    category: str | None = Field(default=None, description="专业人员 / 技能人员")
    cycle_year: int | None = Field(default=None, ge=2000, le=2100, description="培训周期（年度）")
    hours_left: bool = Field(default=False, description="只选这一年度还没有学时记录的证书")


class BroadcastRequest(BaseModel):
    text: str = Field(max_length=20000)
    audience: Audience = Audience()
    start_at: datetime | None = Field(default=None, description="开始时间；不填就是现在")


@dataclass(frozen=True)
class Preview:
    people: int
    chats: int
    sms_only: int


def _checked(audience: Audience, now: datetime) -> Audience:
    position = audience.position
    if position is not None:
        position = canonical_position(position)
        if position is None:
            raise AppError(422, "unknown_position", f"没有这个岗位：{audience.position}")
    if audience.status is not None and audience.status not in STATUSES:
        raise AppError(422, "unknown_status", "证书状态只能是 正常 或 非正常")
    if audience.category is not None and audience.category not in {c.value for c in Category}:
        raise AppError(422, "unknown_category", "人员类别只能是 专业人员 或 技能人员")
    cycle_year = audience.cycle_year
    if audience.hours_left and cycle_year is None:
        cycle_year = now.astimezone(CHINA).year
    return audience.model_copy(update={"position": position, "cycle_year": cycle_year})


def _people(audience: Audience) -> Select[Any]:
    query: Select[Any]
    query = select(Certificate.person_id).distinct()
    if audience.status:
        query = query.where(Certificate.status == audience.status)
    if audience.position:
        query = query.where(Certificate.position == audience.position)
    if audience.category:
        query = query.where(Certificate.category == audience.category)
    if audience.hours_left:
        recorded = select(HoursRecord.certificate_id).where(HoursRecord.cycle_year == audience.cycle_year)
        query = query.where(Certificate.id.not_in(recorded))
    reachable = (
        Certificate.person_id.in_(select(RegistryAccount.person_id))
        | Certificate.person_id.in_(select(LearningAccount.person_id))
        | Certificate.person_id.in_(select(ChatBinding.person_id))
    )
    return query.where(reachable)


async def preview(session: AsyncSession, audience: Audience, now: datetime) -> Preview:
    """How many people and chats a broadcast to `audience` reaches; nothing is queued."""
    audience = _checked(audience, now)
    people = _people(audience).subquery()
    count = await session.scalar(select(func.count()).select_from(people))
    chats = await session.scalar(
        select(func.count())
        .select_from(ChatBinding)
        .where(ChatBinding.person_id.in_(select(people.c.person_id)))
    )
    with_chat = await session.scalar(
        select(func.count(func.distinct(ChatBinding.person_id))).where(
            ChatBinding.person_id.in_(select(people.c.person_id))
        )
    )
    return Preview(people=count or 0, chats=chats or 0, sms_only=(count or 0) - (with_chat or 0))


async def create(
    session: AsyncSession, request: BroadcastRequest, *, operator: str, now: datetime
) -> NoticeBroadcast:
    text = request.text.strip()
    if not text:
        raise AppError(422, "empty_text", "请填写要群发的内容")
    if len(text) > MAX_TEXT:
        raise AppError(422, "text_too_long", f"内容太长了：{len(text)}字，最多{MAX_TEXT}字")
    start_at = request.start_at or now
    if start_at.tzinfo is None:
        start_at = start_at.replace(tzinfo=CHINA)
    if start_at < now - PAST_GRACE:
        raise AppError(422, "start_in_past", "开始时间已经过去了，请填以后的时间")
    audience = _checked(request.audience, now)
    people: list[int] = list(await session.scalars(_people(audience).order_by(Certificate.person_id)))
    if not people:
        raise AppError(422, "empty_audience", "没有符合条件的人，什么都没有发")
    broadcast = NoticeBroadcast(
        text=text,
        audience=audience.model_dump(),
        start_at=start_at,
        recipients=len(people),
        operator=operator[:50],
        created_at=now,
    )
    session.add(broadcast)
    await session.flush()
    for person_id in people:
        await add_notice(
            session,
            person_id=person_id,
            kind=manners.BROADCAST,
            dedupe_key=f"broadcast:{broadcast.id}:{person_id}",
            now=now,
            not_before=start_at,
            broadcast_id=broadcast.id,
        )
    return broadcast


async def cancel(session: AsyncSession, broadcast_id: int, now: datetime) -> NoticeBroadcast:
    """Close everything still waiting; what is sent stays sent, what is in flight finishes."""
    broadcast = await session.get(NoticeBroadcast, broadcast_id, with_for_update=True)
    if broadcast is None:
        raise AppError(404, "broadcast_not_found", f"没有编号为 {broadcast_id} 的群发")
    if broadcast.cancelled_at is None:
        broadcast.cancelled_at = now
    await session.execute(
        update(Notice)
        .where(Notice.broadcast_id == broadcast_id, Notice.state == NoticeState.WAITING)
        .values(state=NoticeState.CANCELLED, finished_at=now)
    )
    return broadcast


async def counts(session: AsyncSession, broadcast_id: int) -> dict[str, int]:
    rows = await session.execute(
        select(Notice.state, func.count()).where(Notice.broadcast_id == broadcast_id).group_by(Notice.state)
    )
    found: dict[str, int] = {state: 0 for state in _STATES}
    for state, number in rows.all():
        found[state] = number
    return found


_STATES = (
    NoticeState.SENT,
    NoticeState.WAITING,
    NoticeState.CLAIMED,
    NoticeState.UNKNOWN,
    NoticeState.FAILED,
    NoticeState.BLOCKED,
    NoticeState.OPTED_OUT,
    NoticeState.CANCELLED,
)


def summary(broadcast: NoticeBroadcast, found: dict[str, int]) -> dict[str, Any]:
    done = sum(n for state, n in found.items() if state not in (NoticeState.WAITING, NoticeState.CLAIMED))
    return {
        "id": broadcast.id,
        "text": broadcast.text,
        "audience": broadcast.audience,
        "start_at": broadcast.start_at,
        "recipients": broadcast.recipients,
        "operator": broadcast.operator,
        "cancelled": broadcast.cancelled_at is not None,
        "created_at": broadcast.created_at,
        "counts": found,
        "finished": done,
    }
