"""Offering a person before the trainee asks for one: typed anger (气死了, 什么破玩意, 骗子, …) earns,
after the assistant's answer, an offer of customer-service staff — offered, never forced.

No offer follows an answer that is a step waiting for its answer (a form's question, a choice of a
flow): the offer would stand in for the step's question and its buttons. Nor one where the turn
already offered a person (the fallback's third step, 好像一直没对上 after a step failed three times)."""

from __future__ import annotations

import unicodedata
from typing import Any

from rules.help import HELPLINE

HANDOFF_PAYLOAD = "/human_handoff"
STUCK = "utter_stuck"  # the runtime's word after one step failed three times; it names 人工 already
ANGRY_WORDS = (
    "气死",
    "破玩意",
    "破玩应",
    "破系统",
    "破网站",
    "破软件",
    "垃圾",
    "骗子",
    "骗人",
    "骗钱",
    "坑人",
    "坑爹",
    "太坑",
    "烦死",
    "烦人",
    "受不了",
    "什么玩意",
    "啥玩意",
    "闹心",
    "投诉",
    "妈的",
    "他妈",
    "有病吧",
)
OFFER = {
    "text": f"听得出您着急了，实在抱歉。要不要找人工客服帮您？也可以拨打客服电话 {HELPLINE}。",
    "buttons": [
        {"title": "找人工客服", "payload": HANDOFF_PAYLOAD},
        {"title": "看看菜单", "payload": "/menu"},
    ],
}


def sounds_angry(text: str) -> bool:
    folded = unicodedata.normalize("NFKC", text)
    plain = "".join(ch for ch in folded if not (ch.isspace() or unicodedata.category(ch).startswith("P")))
    return any(word in plain for word in ANGRY_WORDS)


def offer_due(events: list[dict[str, Any]]) -> bool:
    """The turn's events: the trainee sounded angry, and the answer may be followed by an offer."""
    said = [str(e.get("text") or "") for e in events if e.get("event") == "user"]
    if not any(sounds_angry(text) for text in said):
        return False
    if _form_asking(events):
        return False
    for event in events:
        if event.get("event") != "bot":
            continue
        buttons = (event.get("data") or {}).get("buttons") or []
        payloads = [str(b.get("payload") or "") for b in buttons if isinstance(b, dict)]
        if (event.get("metadata") or {}).get("utter_action") == STUCK or HANDOFF_PAYLOAD in payloads:
            return False  # a person was offered already
        if event is _last_bot(events) and any("{" in p for p in payloads):
            return False  # a step of a flow, its choices carried in the buttons
    return True


def _form_asking(events: list[dict[str, Any]]) -> bool:
    """A form ran this turn and still waits for an answer (the same question or its next one)."""
    asking = False
    for event in events:
        name = event.get("name")
        if event.get("event") == "action" and str(name or "").endswith("_form"):
            asking = True
        elif event.get("event") == "active_loop":
            asking = name is not None
        elif event.get("event") == "slot" and name == "requested_slot" and event.get("value"):
            asking = True
    return asking


def _last_bot(events: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((e for e in reversed(events) if e.get("event") == "bot"), None)
