"""The WeChat channel's memory: the inbox of messages (each handled once, though WeChat delivers a
message up to three times), the access_token every worker shares, button payloads behind short
ids, and followers who unfollowed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base
from storage.types import UTCDateTime, utcnow


class WechatMessage(Base):
    """One message or event as WeChat pushed it (the plain XML, decrypted in safe mode). Written before
    the webhook answers, keyed by `MsgId` (events by sender and CreateTime, as WeChat advises), so
    a retry finds its row and is not handled again.

    `state` goes new -> answered (the turn ran; its answers are kept) -> done; `sent` counts the
    answers already delivered, as in the Telegram inbox."""

    __tablename__ = "wechat_messages"
    __table_args__ = (Index("ix_wechat_messages_state", "state", "claimed_until"),)

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    openid: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="new")  # new | answered | done
    answers: Mapped[str | None] = mapped_column(Text)  # JSON list, once the turn ran
    sent: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WechatToken(Base):
    """The account's access_token. WeChat counts every fetch against a daily quota and a new token
    ends the old one, so one worker fetches (it holds `refreshing_until`) and all read it here."""

    __tablename__ = "wechat_tokens"

    app_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    access_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WechatButton(Base):
    """A button payload (`/intent{...}`) behind the short id a menu message carries."""

    __tablename__ = "wechat_buttons"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class WechatFollower(Base):
    """A follower who unfollowed: nothing is sent to him until he follows or writes again."""

    __tablename__ = "wechat_followers"

    openid: Mapped[str] = mapped_column(String(64), primary_key=True)
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
