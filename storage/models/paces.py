"""A platform's pace shared by every process: the moment from which its next message may go. Each
send moves it on by one interval in a single conditional update, so workers on one database together
keep the platform's rate instead of each keeping it alone."""

from __future__ import annotations

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base


class SendPace(Base):
    __tablename__ = "send_paces"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)  # wechat | sms | telegram
    next_at: Mapped[float] = mapped_column(Float)  # Unix seconds
