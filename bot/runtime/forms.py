"""Slot mappings as Rasa defines them: from_entity, from_text, from_intent (with `intent`,
`not_intent` and `conditions` on the active loop and requested slot), and `custom` (left to the
form's validate action)."""

from __future__ import annotations

from typing import Any

from bot.runtime.domain import Domain
from bot.runtime.tracker import DialogueTracker


def _conditions_hold(mapping: dict[str, Any], tracker: DialogueTracker) -> bool:
    conditions = mapping.get("conditions")
    if not conditions:
        return True
    for condition in conditions:
        if condition.get("active_loop") != tracker.active_loop:
            continue
        wanted = condition.get("requested_slot")
        if wanted is None or wanted == tracker.requested_slot:
            return True
    return False


def _intent_allowed(mapping: dict[str, Any], intent: str) -> bool:
    allowed = mapping.get("intent")
    if allowed is not None and intent not in (allowed if isinstance(allowed, list) else [allowed]):
        return False
    excluded = mapping.get("not_intent") or []
    return intent not in (excluded if isinstance(excluded, list) else [excluded])


def _value(mapping: dict[str, Any], tracker: DialogueTracker) -> Any:
    kind = mapping.get("type")
    message = tracker.latest_message
    if kind == "from_entity":
        for entity in message.get("entities") or []:
            if entity.get("entity") == mapping.get("entity"):
                return entity.get("value")
        return None
    if kind == "from_text":
        text = str(message.get("text") or "").strip()
        return text if text and not text.startswith("/") else None
    if kind == "from_intent":
        return mapping.get("value")
    return None


def extract(domain: Domain, tracker: DialogueTracker, *, in_form: bool) -> dict[str, Any]:
    """Slot values the latest message fills: global mappings always, form mappings while a form runs."""
    found: dict[str, Any] = {}
    for name, spec in domain.slots.items():
        for mapping in spec.get("mappings") or []:
            has_conditions = bool(mapping.get("conditions"))
            if has_conditions != in_form and mapping.get("type") != "from_entity":
                continue
            if not _conditions_hold(mapping, tracker) or not _intent_allowed(mapping, tracker.intent):
                continue
            value = _value(mapping, tracker)
            if value is not None:
                found[name] = value
                break
    return found


def is_custom(domain: Domain, slot: str) -> bool:
    return any(m.get("type") == "custom" for m in domain.slots.get(slot, {}).get("mappings") or [])
