"""One turn of the assistant: lock the sender, load the tracker, start a new session when the last
one expired, honour a pending hand-off, understand the message, run the dialogue step, save."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.runtime.dialogue import Dialogue
from bot.runtime.domain import REQUESTED_SLOT, Domain
from bot.runtime.executor import ActionRunner
from bot.runtime.responses import render
from bot.runtime.rules import RuleBook
from bot.runtime.store import TrackerStore
from bot.runtime.tracker import (
    ACTION_LISTEN,
    ACTION_SESSION_START,
    DialogueTracker,
    action_event,
    bot_event,
    slot_event,
    user_event,
)
from bot.runtime.understanding import parse_exit_word, parse_payload
from nlu import Interpreter

MAX_TEXT = 1000
DOUBLE_TAP_SECONDS = 3.0
RESUME_INTENT = "menu"
PHOTO_INTENT = "send_photo"
RESUMED = {"event": "resume"}


@dataclass
class UserMessage:
    """What a channel hands in: text (or a button payload), the sender, optional metadata (a photo)."""

    text: str
    sender_id: str
    channel: str = "rest"
    metadata: dict[str, Any] = field(default_factory=dict)


class Custody(Protocol):
    """Who has the chat (bot/handoff implements it): asked before a turn, told the turn's events
    after, both inside the sender's lock."""

    async def with_staff(self, sender_id: str, conn: AsyncConnection | None) -> bool: ...

    async def record(
        self, sender_id: str, events: list[dict[str, Any]], *, now: datetime, conn: AsyncConnection | None
    ) -> None: ...


class Assistant:
    def __init__(
        self,
        *,
        domain: Domain,
        rules: RuleBook,
        store: TrackerStore,
        custody: Custody,
        runner: ActionRunner,
        interpreter: Interpreter,
        clock: Callable[[], datetime],
        max_parallel_turns: int = 8,
    ) -> None:
        self.domain = domain
        self.store = store
        self.custody = custody
        self.interpreter = interpreter
        self.clock = clock
        self.dialogue = Dialogue(domain, rules, runner, self._ts)
        # Turns hold a database connection for the sender lock on PostgreSQL; bounding them keeps
        # connections free for the backend calls those very turns make.
        self._turns = asyncio.Semaphore(max_parallel_turns)

    def _ts(self) -> float:
        return self.clock().timestamp()

    async def handle(self, message: UserMessage) -> list[dict[str, Any]]:
        """The answers to one message, each shaped like the Rasa REST channel's (minus recipient_id)."""
        async with self._turns, self.store.locked(message.sender_id) as conn:
            tracker = await self.store.load(message.sender_id, conn)
            waiting = await self.custody.with_staff(message.sender_id, conn)
            self._maybe_start_session(tracker)
            answers = await self._turn(tracker, message, waiting=waiting)
            events = list(tracker.new_events)
            await self.store.save(tracker, channel=message.channel, now=self.clock(), conn=conn)
            await self.custody.record(message.sender_id, events, now=self.clock(), conn=conn)
            return answers

    def _maybe_start_session(self, tracker: DialogueTracker) -> None:
        if tracker.events:
            idle = self._ts() - float(tracker.events[-1].get("timestamp") or 0)
            if idle < self.domain.session_expiration_minutes * 60:
                return
        carried = {
            name: value
            for name, value in tracker.slots.items()
            if value is not None and name != REQUESTED_SLOT and self.domain.carry_over_slots
        }
        tracker.active_loop = None
        tracker.add(action_event(ACTION_SESSION_START, ts=self._ts()))
        tracker.add({"event": "session_started", "timestamp": self._ts()})
        for name, value in carried.items():
            tracker.add(slot_event(name, value, ts=self._ts()))
        tracker.add(action_event(ACTION_LISTEN, ts=self._ts()))

    async def _understand(self, message: UserMessage) -> dict[str, Any]:
        attachment = message.metadata.get("attachment")
        if isinstance(attachment, dict):
            return {
                "text": message.text,
                "intent": {"name": PHOTO_INTENT, "confidence": 1.0},
                "entities": [],
                "intent_ranking": [{"name": PHOTO_INTENT, "confidence": 1.0}],
            }
        payload = parse_payload(message.text, self.domain.intents) or parse_exit_word(message.text)
        if payload is not None:
            return payload
        return await self.interpreter.parse(message.text)

    def _reply(self, name: str, tracker: DialogueTracker) -> list[dict[str, Any]]:
        tracker.add(action_event(name, ts=self._ts()))
        messages = render(self.domain, name, tracker.slots)
        for answer in messages:
            tracker.add(bot_event(answer, ts=self._ts(), utter_action=name))
        tracker.add(action_event(ACTION_LISTEN, ts=self._ts()))
        return messages

    def _not_understood(self, text: str, tracker: DialogueTracker, message: UserMessage) -> None:
        empty = {
            "text": text,
            "intent": {"name": None, "confidence": 0.0},
            "entities": [],
            "intent_ranking": [],
        }
        tracker.add(user_event(empty, ts=self._ts(), channel=message.channel, metadata={}))

    async def _turn(
        self, tracker: DialogueTracker, message: UserMessage, *, waiting: bool
    ) -> list[dict[str, Any]]:
        text = (message.text or "").strip()
        has_file = isinstance(message.metadata.get("attachment"), dict)
        if not text and not has_file:
            self._not_understood("", tracker, message)
            return self._reply("utter_empty_message", tracker)
        if len(text) > MAX_TEXT:
            self._not_understood(text[:200], tracker, message)
            return self._reply("utter_message_too_long", tracker)
        if self._double_tap(tracker, text):
            self._not_understood(text, tracker, message)
            return self._reply("utter_double_tap", tracker)
        parse_data = await self._understand(
            UserMessage(text, message.sender_id, message.channel, message.metadata)
        )
        tracker.add(user_event(parse_data, ts=self._ts(), channel=message.channel, metadata=message.metadata))
        if waiting:
            if tracker.intent != RESUME_INTENT:
                return self._reply("utter_waiting_for_staff", tracker)
            tracker.add({**RESUMED, "timestamp": self._ts()})
        return await self.dialogue.respond(tracker)

    def _double_tap(self, tracker: DialogueTracker, text: str) -> bool:
        """The same button pressed twice within a moment is answered once."""
        if not text.startswith("/"):
            return False
        for event in reversed(tracker.events):
            if event.get("event") == "user":
                recent = self._ts() - float(event.get("timestamp") or 0) < DOUBLE_TAP_SECONDS
                return recent and event.get("text") == text
        return False
