"""What the hand-off says to the trainee. Short, one thing per message, the helpline always there."""

from __future__ import annotations

from typing import Any

from rules.help import HELPLINE

BACK_TO_ASSISTANT = {"title": "返回助手", "payload": "/menu"}
STAFF_PREFIX = "【人工客服】"


def queued(place: int) -> dict[str, Any]:
    ahead = f"您前面还有{place - 1}位，" if place > 1 else "您排在第一位，"
    return {
        "text": f"您找人工客服的请求已记下，{ahead}请稍候。着急请拨打客服电话 {HELPLINE}。"
        "想回到自动助手，点“返回助手”。",
        "buttons": [BACK_TO_ASSISTANT],
    }


def after_hours(back_at: str) -> dict[str, Any]:
    return {
        "text": f"现在是下班时间，人工客服{back_at}上班，您的请求已排队，上班后按顺序处理。"
        f"着急请拨打客服电话 {HELPLINE}。想回到自动助手，点“返回助手”。",
        "buttons": [BACK_TO_ASSISTANT],
    }


def from_staff(text: str) -> dict[str, Any]:
    return {"text": f"{STAFF_PREFIX}{text}", "buttons": [BACK_TO_ASSISTANT]}


CLOSED = {
    "text": "人工客服已结束本次服务，接下来由建培助手继续为您服务。有事直接说，或点“看看菜单”。",
    "buttons": [{"title": "看看菜单", "payload": "/menu"}],
}
