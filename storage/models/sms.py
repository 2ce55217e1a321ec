"""SMS: the outbox every message goes through, and phone verification codes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class SmsMessage(Base):
    """A text to a phone; the default gateway only records it here, a real one also marks it sent."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsCode(Base):
    """A verification code; only a keyed hash is kept so the outbox is the sole place it can be read."""

    __tablename__ = "sms_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(11), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    code_hash: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsPhone(Base):
    """A phone codes were asked for. Sending a code locks this row first, so the resend wait and the
    daily limit are judged for one request of that phone at a time, however many arrive together."""

    __tablename__ = "sms_phones"

    phone: Mapped[str] = mapped_column(String(11), primary_key=True)
    last_request_at: Mapped[datetime] = mapped_column(UTCDateTime)
