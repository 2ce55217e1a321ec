"""The customer-service desk: what a staff member may see and do with handed-off conversations.

An agent sees the queue and the conversations assigned to him; a supervisor sees every open one.
Everything a trainee wrote, and the profile, reaches staff masked (ID numbers, phones). Every staff
action writes an audit row; status changes go through `ConversationStatus`, their only writer."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import structlog
import yaml
from sqlalchemy import func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.channels.outbound import Outbound, UnknownChannel
from bot.channels.telegram.sender import ChatBlocked, SendUncertain
from bot.handoff import texts
from bot.handoff.accounts import Staff, audit_row
from bot.handoff.errors import recent_errors
from bot.handoff.masking import mask_text
from bot.handoff.status import ASSIGNED, CHATWOOT, WAITING, WITH_STAFF, ConversationStatus, Farewell
from storage.models import (
    ConversationEvent,
    Handoff,
    HandoffMessage,
    StaffAudit,
    StaffMember,
)

log = structlog.get_logger(__name__)

CONTEXT_LINES = 20  # what the trainee and the assistant said before the hand-off
MAX_REPLY = 1000
TRAINEE_BLOCKED = "学员已屏蔽机器人，对话自动结束"
# Why a trainee can no longer read his chat, by channel: what a hand-off he left shows staff.
TRAINEE_GONE = {"telegram": TRAINEE_BLOCKED, "wechat": "学员已取消关注公众号，对话自动结束"}
Profile = Callable[[str], Awaitable[list[str]]]


class DeskError(Exception):
    """Refused; `status` is the HTTP status, `message` what the console shows."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class CannedReply:
    key: str
    title: str
    text: str


def load_replies(path: Path) -> list[CannedReply]:
    """常用回复: a YAML list of {key, title, text}."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    return [CannedReply(str(r["key"]), str(r["title"]), str(r["text"])) for r in data]


async def _no_profile(_sender_id: str) -> list[str]:
    return []


class Desk:
    def __init__(
        self,
        engine: AsyncEngine,
        status: ConversationStatus,
        outbound: Outbound,
        *,
        clock: Callable[[], datetime],
        replies: list[CannedReply],
        profile: Profile = _no_profile,
    ) -> None:
        self.engine = engine
        self.status = status
        self.outbound = outbound
        self.clock = clock
        self.replies = replies
        self.profile = profile

    async def _audit(self, staff: Staff | None, action: str, handoff_id: int, detail: str = "") -> None:
        """One audit row; no staff member for what the trainee's side did."""
        staff_id = staff.id if staff is not None else None
        async with self.engine.begin() as conn:
            await conn.execute(
                audit_row(staff_id, action, now=self.clock(), handoff_id=handoff_id, detail=detail)
            )

    def _visible(self, staff: Staff) -> Any:
        if staff.supervisor:
            return Handoff.status.in_(WITH_STAFF)
        return or_(
            Handoff.status == WAITING, (Handoff.status == ASSIGNED) & (Handoff.assigned_to == staff.id)
        )

    async def queue(self, staff: Staff) -> list[dict[str, Any]]:
        """The open conversations this staff member may see, longest waiting first."""
        now = self.clock()
        last = (
            select(HandoffMessage.handoff_id, func.max(HandoffMessage.id).label("last_id"))
            .where(HandoffMessage.by == "trainee")
            .group_by(HandoffMessage.handoff_id)
            .subquery()
        )
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(Handoff, StaffMember.name.label("staff_name"), HandoffMessage.text.label("last_text"))
                .outerjoin(StaffMember, StaffMember.id == Handoff.assigned_to)
                .outerjoin(last, last.c.handoff_id == Handoff.id)
                .outerjoin(HandoffMessage, HandoffMessage.id == last.c.last_id)
                .where(self._visible(staff))
                .order_by(Handoff.id)
            )
            return [
                {
                    "id": row.id,
                    "status": row.status,
                    "chatwoot_status": CHATWOOT[row.status],
                    "channel": row.sender_id.partition(":")[0],
                    "waiting_seconds": int((now - row.requested_at).total_seconds()),
                    "assigned_to": row.assigned_to,
                    "staff_name": row.staff_name,
                    "mine": row.assigned_to == staff.id,
                    "last_text": mask_text(row.last_text or ""),
                }
                for row in rows
            ]

    async def _handoff(self, staff: Staff, handoff_id: int) -> Any:
        """The hand-off, if this staff member may see it: an agent sees what is waiting or his own."""
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(Handoff).where(Handoff.id == handoff_id))).first()
        if row is None:
            raise DeskError(404, "没有这个对话")
        mine = row.status == WAITING or row.assigned_to == staff.id
        if not staff.supervisor and not mine:
            raise DeskError(403, "这个对话不在您名下")
        return row

    async def detail(self, staff: Staff, handoff_id: int) -> dict[str, Any]:
        """The conversation as staff see it: the lines before the hand-off and during it, masked,
        and a short masked profile of the trainee ending with his last errors."""
        row = await self._handoff(staff, handoff_id)
        async with self.engine.connect() as conn:
            before = await conn.execute(
                select(ConversationEvent.data, ConversationEvent.created_at)
                .where(
                    ConversationEvent.sender_id == row.sender_id,
                    ConversationEvent.type_name.in_(("user", "bot")),
                    ConversationEvent.id <= (row.context_until or ConversationEvent.id),
                )
                .order_by(ConversationEvent.id.desc())
                .limit(CONTEXT_LINES)
            )
            during = await conn.execute(
                select(HandoffMessage, StaffMember.name.label("staff_name"))
                .outerjoin(StaffMember, StaffMember.id == HandoffMessage.staff_id)
                .where(HandoffMessage.handoff_id == handoff_id)
                .order_by(HandoffMessage.id)
            )
            lines = [_event_line(r.data, r.created_at) for r in reversed(before.all())]
            lines = [line for line in lines if line is not None]
            lines.append(
                {"by": "note", "text": "—— 以上为转人工之前的对话 ——", "at": row.requested_at.isoformat()}
            )
            for message in during:
                lines.append(
                    {
                        "by": message.by,
                        "text": mask_text(message.text),
                        "photo": message.id if message.photo else None,
                        "staff_name": message.staff_name,
                        "at": message.created_at.isoformat(),
                    }
                )
            errors = await recent_errors(conn, row.sender_id, until=row.context_until)
        profile = [mask_text(line) for line in await self.profile(row.sender_id)] + errors
        return {
            "id": row.id,
            "status": row.status,
            "chatwoot_status": CHATWOOT[row.status],
            "channel": row.sender_id.partition(":")[0],
            "mine": row.assigned_to == staff.id,
            "assigned_to": row.assigned_to,
            "requested_at": row.requested_at.isoformat(),
            "note": row.note,
            "lines": lines,
            "profile": profile,
        }

    async def photo(self, staff: Staff, handoff_id: int, message_id: int) -> Path:
        await self._handoff(staff, handoff_id)
        async with self.engine.connect() as conn:
            name = await conn.scalar(
                select(HandoffMessage.photo).where(
                    HandoffMessage.id == message_id, HandoffMessage.handoff_id == handoff_id
                )
            )
        if not name or not (self.status.photos / name).is_file():
            raise DeskError(404, "没有这张照片")
        return self.status.photos / name

    async def claim(self, staff: Staff, handoff_id: int) -> None:
        try:
            await self._handoff(staff, handoff_id)
        except DeskError as refused:
            # a colleague's claim that landed a moment earlier is answered like one landing at once
            if refused.status != 403:
                raise
        if not await self.status.claim(handoff_id, staff.id, now=self.clock()):
            raise DeskError(409, "这个对话已经被同事接走了")
        await self._audit(staff, "claim", handoff_id)

    async def assign(self, staff: Staff, handoff_id: int, to_staff: int) -> None:
        row = await self._handoff(staff, handoff_id)
        if not staff.supervisor and row.assigned_to != staff.id:
            raise DeskError(403, "先接入这个对话，才能转给同事")
        async with self.engine.connect() as conn:
            name = await conn.scalar(select(StaffMember.name).where(StaffMember.id == to_staff))
        if name is None:
            raise DeskError(422, "没有这位同事")
        if not await self.status.assign(handoff_id, to_staff, now=self.clock()):
            raise DeskError(409, "这个对话已经结束了")
        await self._audit(staff, "assign", handoff_id, detail=f"to:{to_staff}")

    async def _assigned_to_me(self, staff: Staff, handoff_id: int) -> Any:
        row = await self._handoff(staff, handoff_id)
        if row.status != ASSIGNED or (row.assigned_to != staff.id and not staff.supervisor):
            raise DeskError(409, "请先接入这个对话")
        return row

    async def reply(self, staff: Staff, handoff_id: int, text: str) -> None:
        """Send staff's answer to the trainee, on the channel he uses."""
        text = text.strip()
        if not text or len(text) > MAX_REPLY:
            raise DeskError(422, f"回复要1到{MAX_REPLY}个字")
        row = await self._assigned_to_me(staff, handoff_id)
        try:
            await self.outbound.send(row.sender_id, [texts.from_staff(text)])
        except ChatBlocked:  # he left without the platform telling us: ended as if it had
            await self._audit(staff, "reply_failed", handoff_id, detail="blocked")
            note = TRAINEE_GONE.get(row.sender_id.partition(":")[0], TRAINEE_BLOCKED)
            await self._close(handoff_id, note, None)
            raise DeskError(410, f"{note}，回复没有送达") from None
        except UnknownChannel:
            raise DeskError(503, "这个学员用的渠道现在没有开通，发不出去") from None
        except SendUncertain:
            pass  # no answer came but it most likely arrived: kept as sent, so it is not typed twice
        async with self.engine.begin() as conn:
            await conn.execute(
                insert(HandoffMessage).values(
                    handoff_id=handoff_id, by="staff", staff_id=staff.id, text=text, created_at=self.clock()
                )
            )
            await conn.execute(audit_row(staff.id, "reply", now=self.clock(), handoff_id=handoff_id))
        self.status.changes.notify()

    async def close(self, staff: Staff, handoff_id: int, note: str) -> None:
        """End the hand-off with a note; the assistant has the chat again and says so."""
        await self._assigned_to_me(staff, handoff_id)
        if not await self._close(handoff_id, note.strip()[:500], staff, farewell=self._farewell):
            raise DeskError(409, "这个对话已经结束了")

    async def trainee_left(self, sender_id: str) -> None:
        """The trainee can no longer read his chat (he blocked the bot, unfollowed the account): a
        hand-off waiting for staff or held by them ends as staff end it, audit row included, its note
        saying why, so nobody waits for him or writes into the void. No farewell: it could not reach
        him. Should he come back, the assistant has the chat."""
        async with self.engine.connect() as conn:
            handoff_id = await conn.scalar(
                select(Handoff.id).where(Handoff.sender_id == sender_id, Handoff.status.in_(WITH_STAFF))
            )
        if handoff_id is not None:
            await self._close(handoff_id, TRAINEE_GONE[sender_id.partition(":")[0]], None)

    async def _close(
        self, handoff_id: int, note: str, staff: Staff | None, *, farewell: Farewell | None = None
    ) -> bool:
        """Through the conversation's status (its only writer), then the audit log; False when it was
        closed already."""
        if await self.status.close(handoff_id, note, now=self.clock(), farewell=farewell) is None:
            return False
        await self._audit(staff, "close", handoff_id, detail=note)
        return True

    async def _farewell(self, sender_id: str) -> None:
        with contextlib.suppress(ChatBlocked, UnknownChannel):  # closed all the same: nobody to tell
            await self.outbound.send(sender_id, [texts.CLOSED])

    async def stamp(self) -> tuple[int, ...]:
        """Changes the moment anything a console shows changes: a hand-off, a line, a staff action."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(
                        select(func.max(Handoff.id)).scalar_subquery(),
                        select(func.count()).where(Handoff.status.in_(WITH_STAFF)).scalar_subquery(),
                        select(func.max(HandoffMessage.id)).scalar_subquery(),
                        select(func.max(StaffAudit.id)).scalar_subquery(),
                    )
                )
            ).one()
        return tuple(int(value or 0) for value in row)


def _event_line(data: str, at: datetime) -> dict[str, Any] | None:
    event = json.loads(data)
    text = str(event.get("text") or "")
    if event.get("event") == "user":
        if (event.get("metadata") or {}).get("attachment"):
            text = "［照片］"
        elif text.startswith("/"):
            return None
    if not text:
        return None
    return {
        "by": "trainee" if event.get("event") == "user" else "bot",
        "text": mask_text(text),
        "at": at.isoformat(),
    }
