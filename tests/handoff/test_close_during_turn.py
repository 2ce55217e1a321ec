"""Staff closing a conversation while the trainee is writing: the close and the trainee's turn take
the same per-sender lock, so the message either reaches staff before the close or is answered by the
assistant after it — never dropped between the two, never both."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from storage.models import Handoff, HandoffMessage
from tests.assistant.conftest import Chat
from tests.handoff.test_console import Desk, desk, handed_off

__all__ = ["desk"]

TRAINEES = 8
CLOSED_NOTICE = "人工客服已结束本次服务"


async def test_a_message_sent_while_staff_close_is_kept_for_staff_or_answered_by_the_assistant(
    desk: Desk,
) -> None:
    staff = await desk.staff("close-race", "supervisor")
    chats: list[tuple[Chat, int]] = []
    for number in range(TRAINEES):
        chat, handoff_id = await handed_off(desk, f"web-close-race-{number}")
        assert (await staff.post(f"/staff/api/handoffs/{handoff_id}/claim")).status_code == 200
        chats.append((chat, handoff_id))

    async def race(chat: Chat, handoff_id: int) -> list[str]:
        closed, answers = await asyncio.gather(
            staff.post(f"/staff/api/handoffs/{handoff_id}/close", json={"note": "已解答"}),
            chat.say("我要注册"),
        )
        assert closed.status_code == 200, closed.text
        return [str(a.get("text") or "") for a in answers]

    answers = await asyncio.gather(*(race(chat, handoff_id) for chat, handoff_id in chats))
    async with desk.backend.sessions() as session:
        kept = set(
            await session.scalars(
                select(Handoff.sender_id)
                .join(HandoffMessage, HandoffMessage.handoff_id == Handoff.id)
                .where(HandoffMessage.text == "我要注册")
            )
        )
    for (chat, _handoff_id), said in zip(chats, answers, strict=True):
        for_staff = chat.conversation_id in kept
        answered = any("真实姓名" in text for text in said)
        assert for_staff != answered, (chat.sender, for_staff, said)
        history = await chat.http.post("/webhooks/rest/history", json={"sender": chat.sender})
        pushed = [line["text"] for line in history.json()["lines"] if line.get("push_id")]
        assert sum(CLOSED_NOTICE in text for text in pushed) == 1
