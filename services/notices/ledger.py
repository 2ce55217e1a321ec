"""The notices table's writes: a fact becomes a notice once (its dedupe key), a batch is claimed
under a lease, a result is recorded against the claim that made it.

A claim whose lease ran out becomes `unknown` and is never handed out again: the platforms give bots
no idempotency key, so a send that may have reached the chat must not be repeated."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices import manners
from storage.db import insert_unless_there
from storage.models import (
    ChatBinding,
    LearningAccount,
    Notice,
    NoticeBroadcast,
    NoticeOptOut,
    RegistryAccount,
)
from storage.models.notices import NoticeState


async def add_notice(
    session: AsyncSession,
    *,
    person_id: int,
    kind: str,
    dedupe_key: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    broadcast_id: int | None = None,
) -> bool:
    """Record that `person_id` must be told `kind`; False when this fact was already recorded."""
    values = {
        "person_id": person_id,
        "kind": kind,
        "dedupe_key": dedupe_key,
        "params": params or {},
        "broadcast_id": broadcast_id,
        "state": NoticeState.WAITING,
        "not_before": not_before or now,
        "created_at": now,
    }
    result = await session.execute(insert_unless_there(session, Notice, "dedupe_key", **values))
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def expire_claims(session: AsyncSession, now: datetime) -> int:
    """Claims whose lease ran out become unknown (perhaps sent, perhaps not; never resent)."""
    result = await session.execute(
        update(Notice)
        .where(Notice.state == NoticeState.CLAIMED, Notice.claimed_until < now)
        .values(state=NoticeState.UNKNOWN, finished_at=now, detail="lease_expired")
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


@dataclass
class Claimed:
    id: int
    person_id: int
    kind: str
    params: dict[str, Any]
    claim_token: str
    chats: list[str] = field(default_factory=list)
    has_phone: bool = False
    broadcast_id: int | None = None


async def claim(
    session: AsyncSession,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    quiet: manners.Quiet = manners.QUIET_HOURS,
) -> list[Claimed]:
    """Take up to `limit` notices that may go now (none in the `quiet` hours). Opted-out persons'
    reminders and broadcasts are closed as opted_out; a reminder beyond the day's one waits for the
    next morning."""
    if manners.is_quiet(now, quiet):
        return []
    await expire_claims(session, now)
    rows = (
        await session.execute(
            select(Notice.id, Notice.person_id, Notice.kind)
            .where(Notice.state == NoticeState.WAITING, Notice.not_before <= now)
            .order_by(Notice.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
    ).all()
    if not rows:
        return []
    persons = {row.person_id for row in rows}
    opted_out = set(
        await session.scalars(select(NoticeOptOut.person_id).where(NoticeOptOut.person_id.in_(persons)))
    )
    reminded_today = set(
        await session.scalars(
            select(Notice.person_id).where(
                Notice.person_id.in_(persons),
                Notice.kind.in_(manners.REMINDERS),
                Notice.state.in_([NoticeState.CLAIMED, NoticeState.SENT, NoticeState.UNKNOWN]),
                func.coalesce(Notice.finished_at, Notice.claimed_until) >= manners.china_day_start(now),
            )
        )
    )
    token = secrets.token_hex(16)
    taken: list[int] = []
    skipped: list[int] = []
    held: list[int] = []
    for row in rows:
        if row.person_id in opted_out and manners.honours_opt_out(row.kind):
            skipped.append(row.id)
        elif manners.is_reminder(row.kind) and row.person_id in reminded_today:
            held.append(row.id)
        else:
            if manners.is_reminder(row.kind):
                reminded_today.add(row.person_id)
            taken.append(row.id)
    if skipped:
        await session.execute(
            update(Notice).where(Notice.id.in_(skipped)).values(state=NoticeState.OPTED_OUT, finished_at=now)
        )
    if held:
        await session.execute(
            update(Notice).where(Notice.id.in_(held)).values(not_before=manners.next_morning(now))
        )
    if not taken:
        return []
    await session.execute(
        update(Notice)
        .where(Notice.id.in_(taken), Notice.state == NoticeState.WAITING)
        .values(state=NoticeState.CLAIMED, claim_token=token, claimed_until=now + lease)
    )
    notices = (
        await session.execute(
            select(Notice, NoticeBroadcast.text)
            .outerjoin(NoticeBroadcast, NoticeBroadcast.id == Notice.broadcast_id)
            .where(Notice.claim_token == token)
            .order_by(Notice.id)
        )
    ).all()
    claimed_persons = {notice.person_id for notice, _ in notices}
    chats: dict[int, list[str]] = {}
    for binding in await session.scalars(
        select(ChatBinding).where(ChatBinding.person_id.in_(claimed_persons)).order_by(ChatBinding.sender_id)
    ):
        chats.setdefault(binding.person_id, []).append(binding.sender_id)
    phones = set(
        await session.scalars(
            select(RegistryAccount.person_id).where(RegistryAccount.person_id.in_(claimed_persons))
        )
    ) | set(
        await session.scalars(
            select(LearningAccount.person_id).where(LearningAccount.person_id.in_(claimed_persons))
        )
    )
    return [
        Claimed(
            id=notice.id,
            person_id=notice.person_id,
            kind=notice.kind,
            params={**notice.params, **({"text": text} if text is not None else {})},
            claim_token=token,
            chats=chats.get(notice.person_id, []),
            has_phone=notice.person_id in phones,
            broadcast_id=notice.broadcast_id,
        )
        for notice, text in notices
    ]


class StaleClaim(Exception):
    """The notice is not held by this claim (finished already, or claimed by another)."""


async def held(session: AsyncSession, notice_id: int, claim_token: str) -> Notice:
    """The notice still held by `claim_token`; a lease that ran out meanwhile still counts, so a
    send that did finish is recorded truthfully instead of staying unknown."""
    notice = await session.get(Notice, notice_id, with_for_update=True)
    if (
        notice is None
        or notice.claim_token != claim_token
        or notice.state not in (NoticeState.CLAIMED, NoticeState.UNKNOWN)
    ):
        raise StaleClaim(notice_id)
    return notice


async def held_many(session: AsyncSession, claims: dict[int, str]) -> dict[int, Notice]:
    """The notices among `claims` (id -> claim token) still held by their token, locked."""
    rows = await session.scalars(
        select(Notice)
        .where(Notice.id.in_(claims), Notice.state.in_([NoticeState.CLAIMED, NoticeState.UNKNOWN]))
        .order_by(Notice.id)
        .with_for_update()
    )
    return {notice.id: notice for notice in rows if notice.claim_token == claims[notice.id]}


def finish(
    notice: Notice, *, state: str, now: datetime, via: str | None, message_ids: list[str], detail: str | None
) -> None:
    notice.state = state
    notice.via = via
    notice.message_ids = message_ids or None
    notice.detail = detail
    notice.finished_at = now


async def phone_of(session: AsyncSession, person_id: int) -> str | None:
    """Where an SMS reaches the person: the 管理系统 phone, else the platform's."""
    phone = await session.scalar(select(RegistryAccount.phone).where(RegistryAccount.person_id == person_id))
    if phone is None:
        phone = await session.scalar(
            select(LearningAccount.phone).where(LearningAccount.person_id == person_id)
        )
    return phone
