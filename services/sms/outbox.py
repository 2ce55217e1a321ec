"""Reading the SMS outbox, newest first (admin API and `jianpei admin sms-outbox`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SmsMessage


async def recent_messages(session: AsyncSession, *, phone: str | None, limit: int) -> list[SmsMessage]:
    query = select(SmsMessage).order_by(SmsMessage.created_at.desc(), SmsMessage.id.desc()).limit(limit)
    if phone:
        query = query.where(SmsMessage.phone == phone)
    return list((await session.scalars(query)).all())
