"""Customer-service staff and the conversations handed to them: accounts and their login sessions,
each hand-off (a queue entry, then a claimed conversation, then a closed one with its note), what
was said during it, and an audit row for every staff action."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class StaffMember(Base):
    """A person at the customer-service desk. An agent sees the queue and what is assigned to him;
    a supervisor sees every open conversation and may assign any of them."""

    __tablename__ = "staff_members"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(20))  # agent | supervisor
    password_hash: Mapped[str] = mapped_column(String(200))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A console login; only the SHA-256 of the cookie's token is kept."""

    __tablename__ = "staff_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_members.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Handoff(Base):
    """One hand-off of a chat to staff: waiting in the queue, assigned to one staff member, closed.
    The number is what the console shows and puts in its URLs; the chat id never leaves the server."""

    __tablename__ = "staff_handoffs"
    __table_args__ = (Index("ix_staff_handoffs_status", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sender_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_conversations.sender_id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))  # waiting | assigned | closed
    assigned_to: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # the chat's last event when it was handed off: staff see the lines up to it as the context
    context_until: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)  # the closing note (or why it closed by itself)


class HandoffMessage(Base):
    """A line of a hand-off: what the trainee sent to staff (text, or a photo kept aside) and what
    staff answered."""

    __tablename__ = "staff_handoff_messages"
    __table_args__ = (Index("ix_staff_handoff_messages_handoff", "handoff_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    handoff_id: Mapped[int] = mapped_column(ForeignKey("staff_handoffs.id", ondelete="CASCADE"))
    by: Mapped[str] = mapped_column(String(10))  # trainee | staff
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text, default="")
    photo: Mapped[str | None] = mapped_column(String(80))  # the kept photo's file name
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffAudit(Base):
    """Who did what at the desk: login, claim, assign, reply, close (and refused logins)."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_members.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(20))
    handoff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_handoffs.id", ondelete="SET NULL"))
    detail: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class HandoffTopic(Base):
    """The forum topic of a hand-off in the staff's Telegram supergroup: which thread it is (none
    while it is being opened), how far the trainee's lines have been shown in it, and when the end
    was told there."""

    __tablename__ = "staff_handoff_topics"

    handoff_id: Mapped[int] = mapped_column(
        ForeignKey("staff_handoffs.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[str] = mapped_column(String(40))
    thread_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    shown_until: Mapped[int] = mapped_column(BigInteger, default=0)  # the last HandoffMessage shown
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
