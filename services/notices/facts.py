"""Notices written with the fact that causes them, in the caller's transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.notices import manners
from services.notices.ledger import add_notice, finish, phone_of
from services.sms.gateway import SmsGateway
from storage.models import ChatBinding, Notice
from storage.models.notices import NoticeState


async def completion(
    session: AsyncSession,
    *,
    sms: SmsGateway,
    person_id: int,
    enrolment_id: int,
    phone: str | None,
    text: str,
    params: dict[str, Any],
    now: datetime,
    quiet: manners.Quiet = manners.QUIET_HOURS,
) -> None:
    """The completion notice of an hours review. A person with no chat bound gets the guide's SMS
    at once (outside the `quiet` hours), as the platform always did; chats get it from the scheduler."""
    key = f"completion:{enrolment_id}:{now.isoformat()}"
    if not await add_notice(
        session, person_id=person_id, kind=manners.COMPLETION, dedupe_key=key, now=now, params=params
    ):
        return
    bound = await session.scalar(
        select(ChatBinding.sender_id).where(ChatBinding.person_id == person_id).limit(1)
    )
    phone = phone or await phone_of(session, person_id)
    if bound is not None or phone is None or manners.is_quiet(now, quiet):
        return
    await sms.send(session, phone=phone, kind="learning_completed", text=text, now=now)
    notice = await session.scalar(select(Notice).where(Notice.dedupe_key == key))
    assert notice is not None
    finish(notice, state=NoticeState.SENT, now=now, via="sms", message_ids=[], detail=None)
