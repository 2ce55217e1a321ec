"""Who must be told what: one row per fact to tell a person (a completion, a reminder threshold, an
operator broadcast), the operator's broadcasts, and the people who asked for no reminders.

A notice's dedupe key is unique, so a fact written twice, or a rule run by two processes at once,
still tells the person once. Its state is the delivery's whole memory: waiting -> claimed (a lease)
-> sent | unknown (the lease ran out mid-send: never resent) | failed | blocked | opted_out | cancelled.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class NoticeState:
    WAITING = "waiting"
    CLAIMED = "claimed"
    SENT = "sent"
    UNKNOWN = "unknown"
    FAILED = "failed"
    BLOCKED = "blocked"
    OPTED_OUT = "opted_out"
    CANCELLED = "cancelled"


class Notice(Base):
    __tablename__ = "notices"
    __table_args__ = (Index("ix_notices_state_due", "state", "not_before"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    broadcast_id: Mapped[int | None] = mapped_column(
        ForeignKey("notice_broadcasts.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(12), default=NoticeState.WAITING)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claim_token: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    via: Mapped[str | None] = mapped_column(String(20))  # chat | sms
    message_ids: Mapped[list[str] | None] = mapped_column(JSON)
    detail: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)


class NoticeBroadcast(Base):
    """An operator's message to an audience from a start time; its notices carry the delivery."""

    __tablename__ = "notice_broadcasts"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    audience: Mapped[dict[str, Any]] = mapped_column(JSON)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recipients: Mapped[int] = mapped_column(Integer)
    operator: Mapped[str] = mapped_column(String(50))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeOptOut(Base):
    """A person who said 退订提醒: reminders and broadcasts skip him until 恢复提醒."""

    __tablename__ = "notice_opt_outs"

    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True)
    opted_out_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
