"""The assistant's memory: each chat's Rasa events (the tracker), its state, and which person a chat is
bound to. Events are appended, never rewritten, so a crash mid-turn loses at most that turn."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class Conversation(Base):
    """One chat (a sender id of one channel): where its current session starts and who handles it."""

    __tablename__ = "assistant_conversations"

    sender_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), default="rest")
    status: Mapped[str] = mapped_column(String(20), default="bot")  # bot | waiting_for_staff
    session_no: Mapped[int] = mapped_column(Integer, default=0)  # the current session's number
    last_event_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    handoff_requested_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationEvent(Base):
    """One Rasa event of a chat, as the JSON Rasa itself would store."""

    __tablename__ = "assistant_events"
    __table_args__ = (Index("ix_assistant_events_sender_session", "sender_id", "session_no", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    sender_id: Mapped[str] = mapped_column(
        ForeignKey("assistant_conversations.sender_id", ondelete="CASCADE")
    )
    session_no: Mapped[int] = mapped_column(Integer)
    type_name: Mapped[str] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatBinding(Base):
    """A chat proven, by an SMS code to the account's phone, to belong to this person."""

    __tablename__ = "assistant_bindings"

    sender_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    bound_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatLinkCode(Base):
    """A one-time code a bound chat made to bind another chat (Telegram's `/start <code>`) to the same
    person. Only its keyed hash is kept; `used_at` is set once, by the redeem that wins. The table
    is the backend's (migration 0022), since only the backend writes it."""

    __tablename__ = "chat_link_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    made_by: Mapped[str] = mapped_column(String(200))  # the bound chat that asked for it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_by: Mapped[str | None] = mapped_column(String(200))  # the chat it bound


class ChatPush(Base):
    """A message the assistant sent into a REST or web chat outside any turn (a notice, a staff
    answer). Kept until read and after: the page shows it live, or on its next visit, in order."""

    __tablename__ = "assistant_pushes"
    __table_args__ = (Index("ix_assistant_pushes_sender", "sender_id", "id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    sender_id: Mapped[str] = mapped_column(String(200))
    data: Mapped[str] = mapped_column(Text)  # one answer, shaped like a REST channel answer
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
