"""Where texts go. The default gateway keeps every message in the outbox table and logs it
(phone masked); a provider's gateway would implement the same `send`."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from rules.identity import mask_phone
from storage.models import SmsMessage

log = structlog.get_logger(__name__)


class SmsGateway(Protocol):
    async def send(self, session: AsyncSession, *, phone: str, kind: str, text: str, now: datetime) -> None:
        """Queue `text` for `phone` inside the caller's transaction."""


class OutboxGateway:
    """Stores messages in the outbox only; operators read it with `jianpei admin sms-outbox`."""

    async def send(self, session: AsyncSession, *, phone: str, kind: str, text: str, now: datetime) -> None:
        session.add(SmsMessage(phone=phone, kind=kind, text=text, status="stored", created_at=now))
        log.info("sms_stored", phone=mask_phone(phone), kind=kind)
