"""What a message means: button payloads (`/intent{"slot": "value"}`) are read here exactly as Rasa
reads them; free text goes to the NLU (nlu/) when it is available."""

from __future__ import annotations

import json
import re
from typing import Any

PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w\-]*)(?P<entities>\{.*\})?\s*$", re.DOTALL)
# The way out of a form must work whatever the NLU makes of it: short messages made only of these
# words always mean leaving the form (取消, 算了 不整了, 等会再说) or asking for a person (人工).
_LEAVING = (
    "取消 退出 返回 算了 拉倒 不办了 不整了 不弄了 不干了 不搞了 不要了 不报了 不考了 不传了 不注册了 不绑了"
    " 先不办了 先不整了 先不弄了 先不了 别整了 别弄了 等会再说 等会儿再说 等一会再说 回头再说 以后再说"
    " 改天再说 明天再说 过两天再说 再说吧 先这样"
)
EXIT_WORDS = {word: "cancel" for word in _LEAVING.split()} | {
    "人工": "human_handoff",
    "转人工": "human_handoff",
    "人工客服": "human_handoff",
    "找客服": "human_handoff",
}
SPACES = re.compile(r"[\s\W_]+")
_EXITS = re.compile("|".join(sorted(map(re.escape, EXIT_WORDS), key=len, reverse=True)))
UNKNOWN_PAYLOAD_INTENT = "unknown_payload"
# What every notice tells the trainee to reply, understood exactly as written (spaces and marks aside).
COMMANDS = {"退订提醒": "stop_reminders", "恢复提醒": "resume_reminders"}


def _parse(text: str, intent: str, confidence: float, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


def parse_exit_word(text: str) -> dict[str, Any] | None:
    """取消 / 退出 / 人工 and their close kin, typed on their own or a few together (算了 不整了)."""
    words = SPACES.sub("", text)
    found = _EXITS.findall(words)
    if not found or len(words) > 12 or _EXITS.sub("", words).strip("吧啊呀哈了呗那就哎唉嗯"):
        return None
    intent = "human_handoff" if any(EXIT_WORDS[w] == "human_handoff" for w in found) else "cancel"
    return _parse(text, intent, 1.0, [])


def parse_command(text: str) -> dict[str, Any] | None:
    """退订提醒 / 恢复提醒, the replies every notice offers."""
    intent = COMMANDS.get(SPACES.sub("", text))
    return _parse(text, intent, 1.0, []) if intent else None


def parse_payload(text: str, known_intents: frozenset[str]) -> dict[str, Any] | None:
    """A payload's intent and entities, or None when `text` is not a payload at all.

    A payload naming an intent the domain lacks, or with broken JSON, is understood as nothing
    (it falls back), never as something else."""
    match = PAYLOAD.match(text.strip())
    if match is None:
        return None
    intent = match.group("intent")
    entities: list[dict[str, Any]] = []
    raw = match.group("entities")
    if raw:
        try:
            values = json.loads(raw)
        except json.JSONDecodeError:
            return _parse(text, UNKNOWN_PAYLOAD_INTENT, 1.0, [])
        if not isinstance(values, dict):
            return _parse(text, UNKNOWN_PAYLOAD_INTENT, 1.0, [])
        for name, value in values.items():
            if isinstance(value, str | int | float) and len(str(value)) <= 100:
                entities.append(
                    {"entity": str(name), "value": str(value), "start": 0, "end": 0, "extractor": "payload"}
                )
    if intent not in known_intents:
        return _parse(text, UNKNOWN_PAYLOAD_INTENT, 1.0, [])
    return _parse(text, intent, 1.0, entities)
