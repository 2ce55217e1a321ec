"""Responses of the domain turned into messages: `{slot}` variables filled from slots (and from what
an action passes), buttons kept as Rasa writes them."""

from __future__ import annotations

import re
from typing import Any

from bot.runtime.domain import Domain

_VARIABLE = re.compile(r"\{(\w+)\}")


def _fill(text: str, values: dict[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        found = values.get(match.group(1))
        return match.group(0) if found is None else str(found)

    return _VARIABLE.sub(value, text)


def render(
    domain: Domain, name: str, slots: dict[str, Any], extra: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The message of response `name` (its first variant: answers stay predictable)."""
    variants = domain.responses.get(name)
    if not variants:
        return []
    values = {**slots, **(extra or {})}
    variant = variants[0]
    message: dict[str, Any] = {}
    if variant.get("text"):
        message["text"] = _fill(str(variant["text"]), values)
    if variant.get("buttons"):
        message["buttons"] = [
            {"title": _fill(str(b["title"]), values), "payload": _fill(str(b["payload"]), values)}
            for b in variant["buttons"]
        ]
    for key in ("image", "attachment", "custom"):
        if variant.get(key):
            message[key] = variant[key]
    return [message]


def from_dispatcher(domain: Domain, slots: dict[str, Any], message: dict[str, Any]) -> list[dict[str, Any]]:
    """A rasa-sdk dispatcher message: a named response is rendered, anything else passes through."""
    name = message.get("response") or message.get("template")
    if name:
        extra = {k: v for k, v in message.items() if k not in {"response", "template"} and v is not None}
        return render(domain, str(name), slots, extra)
    kept = {
        key: message[key] for key in ("text", "buttons", "image", "attachment", "custom") if message.get(key)
    }
    if message.get("json_message"):
        kept["custom"] = message["json_message"]
    return [kept] if kept else []
