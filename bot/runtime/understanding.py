"""What a message means: button payloads (`/intent{"slot": "value"}`) are read here exactly as Rasa
reads them; free text goes to the NLU (nlu/) when it is available."""

from __future__ import annotations

import json
import re
from typing import Any

PAYLOAD = re.compile(r"^/(?P<intent>[A-Za-z_][\w\-]*)(?P<entities>\{.*\})?\s*$", re.DOTALL)
# The way out of a form must work whatever the NLU makes of it: these exact short messages always
# mean leaving the form (取消, 退出) or asking for a person (人工).
EXIT_WORDS = {
    "取消": "cancel",
    "退出": "cancel",
    "不办了": "cancel",
    "算了": "cancel",
    "返回": "cancel",
    "人工": "human_handoff",
    "转人工": "human_handoff",
    "人工客服": "human_handoff",
    "找客服": "human_handoff",
}
UNKNOWN_PAYLOAD_INTENT = "unknown_payload"


def _parse(text: str, intent: str, confidence: float, entities: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
        "intent_ranking": [{"name": intent, "confidence": confidence}],
    }


def parse_exit_word(text: str) -> dict[str, Any] | None:
    """取消 / 退出 / 人工 and their close kin, typed on their own."""
    intent = EXIT_WORDS.get(text.strip().strip("。！!.， "))
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
