"""The trainee's last errors, for the staff profile: turns in which the assistant did not take what
he said — a form refused the answer and asked again, or the NLU did not understand. The runtime
counts those turns in its `misses` slot, so a turn that raised it is one that failed; staff see what
he said and what the assistant answered, masked, newest last."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.handoff.hours import CHINA
from bot.handoff.masking import mask_text
from storage.models import ConversationEvent

MISSES_SLOT = "misses"
SHOWN = 5
LOOKED_AT = 600  # events read back from the newest: a few dozen turns
CLIPPED = 40  # characters of each side shown


async def recent_errors(conn: AsyncConnection, sender_id: str, *, until: int | None = None) -> list[str]:
    """Lines like `最近出错 03-02 09:01 学员：“123” → 助手：“身份证号是18位…”`, the last few."""
    query = select(ConversationEvent.data, ConversationEvent.created_at).where(
        ConversationEvent.sender_id == sender_id
    )
    if until is not None:
        query = query.where(ConversationEvent.id <= until)
    rows = (await conn.execute(query.order_by(ConversationEvent.id.desc()).limit(LOOKED_AT))).all()
    failed: list[str] = []
    turn: _Turn | None = None
    for data, at in reversed(rows):
        event = json.loads(data)
        kind = event.get("event")
        if kind == "user":
            if turn is not None and turn.failed:
                failed.append(turn.line())
            turn = _Turn(event, at)
        elif turn is not None:
            turn.add(event)
    if turn is not None and turn.failed:
        failed.append(turn.line())
    return failed[-SHOWN:]


class _Turn:
    def __init__(self, user: dict[str, Any], at: datetime) -> None:
        attachment = (user.get("metadata") or {}).get("attachment")
        self.said = "［照片］" if attachment else str(user.get("text") or "")
        self.at = at
        self.answer = ""
        self.failed = False

    def add(self, event: dict[str, Any]) -> None:
        if event.get("event") == "bot" and not self.answer:
            self.answer = str(event.get("text") or "")
        elif event.get("event") == "slot" and event.get("name") == MISSES_SLOT:
            self.failed = int(event.get("value") or 0) > 0

    def line(self) -> str:
        when = self.at.astimezone(CHINA).strftime("%m-%d %H:%M")
        return f"最近出错 {when} 学员：“{_clip(self.said)}” → 助手：“{_clip(self.answer)}”"


def _clip(text: str) -> str:
    text = mask_text(" ".join(text.split()))
    return text if len(text) <= CLIPPED else f"{text[:CLIPPED]}…"
