"""The Telegram channel's memory: the inbox of updates (each handled once, even across a crash), long
button payloads behind short keys, chats that blocked the bot and each chat's live keyboard."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class TelegramUpdate(Base):
    """One update as Telegram delivered it. Written before the webhook answers 200, so a redelivery
    is recognised by its `update_id` and an update a crash interrupted is taken up again.

    `state` goes new -> answered (the turn ran; its answers are kept here) -> done; `sent` counts the
    answers already delivered, so a resumed update neither runs its turn twice nor repeats a message
    Telegram confirmed."""

    __tablename__ = "telegram_updates"
    __table_args__ = (Index("ix_telegram_updates_state", "state", "claimed_until"),)

    update_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_id: Mapped[str | None] = mapped_column(String(40))
    data: Mapped[str] = mapped_column(Text)  # the update's JSON
    state: Mapped[str] = mapped_column(String(10), default="new")  # new | answered | done
    answers: Mapped[str | None] = mapped_column(Text)  # JSON list, once the turn ran
    sent: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a worker is on it until then
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TelegramButton(Base):
    """A button payload longer than Telegram's 64 bytes of callback data; the button carries the key."""

    __tablename__ = "telegram_buttons"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TelegramChat(Base):
    """What the sender must know of a chat: whether its user blocked the bot (or removed it), so
    nothing more is sent until he writes again, and which message carries the inline keyboard that
    may still be pressed (0: none; NULL: not known), so a tap on an older one is refused; and the
    moment (Unix seconds) from which it may get its next message, kept for every process that sends."""

    __tablename__ = "telegram_chats"

    chat_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    blocked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    keyboard_message_id: Mapped[int | None] = mapped_column(BigInteger)
    send_after: Mapped[float | None] = mapped_column(Float)
