"""A conversation as Rasa sees it: a list of Rasa events, and the state they add up to.

The state (slots, active loop, latest message) is always recomputed from events, so what is stored
is exactly what an external Rasa server would store and what rasa-sdk actions receive.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from bot.runtime.domain import REQUESTED_SLOT, Domain

ACTION_LISTEN = "action_listen"
ACTION_SESSION_START = "action_session_start"


def user_event(
    parse_data: dict[str, Any], *, ts: float, channel: str, metadata: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": ts,
        "text": parse_data.get("text", ""),
        "parse_data": parse_data,
        "input_channel": channel,
        "message_id": parse_data.get("message_id"),
        "metadata": metadata,
    }


def action_event(name: str, *, ts: float, policy: str = "RulePolicy") -> dict[str, Any]:
    return {"event": "action", "timestamp": ts, "name": name, "policy": policy, "confidence": 1.0}


def slot_event(name: str, value: Any, *, ts: float) -> dict[str, Any]:
    return {"event": "slot", "timestamp": ts, "name": name, "value": value}


def loop_event(name: str | None, *, ts: float) -> dict[str, Any]:
    return {"event": "active_loop", "timestamp": ts, "name": name}


def bot_event(message: dict[str, Any], *, ts: float, utter_action: str | None) -> dict[str, Any]:
    data = {
        key: message[key]
        for key in ("buttons", "image", "attachment", "custom", "elements")
        if message.get(key)
    }
    return {
        "event": "bot",
        "timestamp": ts,
        "text": message.get("text"),
        "data": data,
        "metadata": {"utter_action": utter_action} if utter_action else {},
    }


@dataclass
class DialogueTracker:
    """Events of the current session, plus those added during this turn (kept apart for saving)."""

    sender_id: str
    domain: Domain
    events: list[dict[str, Any]] = field(default_factory=list)
    new_events: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    active_loop: str | None = None
    latest_message: dict[str, Any] = field(default_factory=dict)
    latest_action_name: str | None = None
    followup_action: str | None = None
    session_no: int = 0  # which stored session these events belong to

    def __post_init__(self) -> None:
        self.slots = self.domain.initial_slots()
        for event in self.events:
            self._apply(event)

    def add(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        self.new_events.append(event)
        self._apply(event)

    def _apply(self, event: dict[str, Any]) -> None:
        kind = event.get("event")
        if kind == "user":
            self.latest_message = {
                "text": event.get("text"),
                "intent": (event.get("parse_data") or {}).get("intent", {}),
                "entities": (event.get("parse_data") or {}).get("entities", []),
                "intent_ranking": (event.get("parse_data") or {}).get("intent_ranking", []),
                "metadata": event.get("metadata") or {},
                "message_id": event.get("message_id"),
            }
        elif kind == "slot":
            self.slots[event["name"]] = event.get("value")
        elif kind == "active_loop":
            self.active_loop = event.get("name")
        elif kind == "action":
            self.latest_action_name = event.get("name")
            if self.followup_action == event.get("name"):
                self.followup_action = None
        elif kind == "followup":
            self.followup_action = event.get("name")
        elif kind == "reset_slots":
            self.slots = self.domain.initial_slots()
        elif kind == "restart":
            self.slots = self.domain.initial_slots()
            self.active_loop = None
            self.followup_action = None
        elif kind == "session_started" and not self.domain.carry_over_slots:
            self.slots = self.domain.initial_slots()

    @property
    def requested_slot(self) -> str | None:
        value = self.slots.get(REQUESTED_SLOT)
        return value if isinstance(value, str) else None

    @property
    def intent(self) -> str:
        return str((self.latest_message.get("intent") or {}).get("name") or "")

    @property
    def action_before_message(self) -> str | None:
        """The last action the assistant ran before the latest user message."""
        seen_user = False
        for event in reversed(self.events):
            if event.get("event") == "user":
                seen_user = True
            elif seen_user and event.get("event") == "action" and event.get("name") != ACTION_LISTEN:
                return str(event.get("name"))
        return None

    def state(self) -> dict[str, Any]:
        """The tracker JSON a Rasa server sends to an action server."""
        return {
            "sender_id": self.sender_id,
            "slots": copy.deepcopy(self.slots),
            "latest_message": copy.deepcopy(self.latest_message),
            "events": copy.deepcopy(self.events),
            "paused": False,
            "followup_action": self.followup_action,
            "active_loop": {"name": self.active_loop} if self.active_loop else {},
            "latest_action_name": self.latest_action_name,
            "latest_event_time": self.events[-1]["timestamp"] if self.events else None,
        }
