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
from bot.runtime.redaction import typed_password
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
from bot.runtime.understanding import parse_command, parse_exit_word, parse_payload
from nlu import Interpreter

MAX_TEXT = 1000
DOUBLE_TAP_SECONDS = 3.0
RESUME_INTENT = "menu"
RESUME_WORDS = "返回助手"
PHOTO_INTENT = "send_photo"
RESUMED = {"event": "resume"}


@dataclass
class UserMessage:
    """What a channel hands in: text (or a button payload), the sender, optional metadata (a photo)."""

    text: str
    sender_id: str
    channel: str = "rest"
    metadata: dict[str, Any] = field(default_factory=dict)
    # Set by the turn: the text was a password put into its slot. History keeps it starred; a channel
    # whose platform lets the bot delete the trainee's message (Telegram) takes it out of his chat.
    typed_password: bool = False


class Custody(Protocol):
    """Who has the chat (bot/handoff implements it): asked before a turn, handed the message while
    staff have the chat, told the turn's events after, all inside the sender's lock. What it
    answers is said to the trainee (his place in the queue, say)."""

    async def with_staff(self, sender_id: str, conn: AsyncConnection | None) -> bool: ...

    async def relay(
        self, message: UserMessage, *, now: datetime, conn: AsyncConnection | None
    ) -> list[dict[str, Any]]: ...

    async def record(
        self, sender_id: str, events: list[dict[str, Any]], *, now: datetime, conn: AsyncConnection | None
    ) -> list[dict[str, Any]]: ...


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
        # Turns run at most this many at once, each admitted in arrival order once its sender's
        # lock is its own: the CPU stays busy while some turns wait on the database, and no turn
        # is overtaken by more than this many that arrived after it.
        self._turns = asyncio.Semaphore(max_parallel_turns)

    def _ts(self) -> float:
        return self.clock().timestamp()

    async def handle(self, message: UserMessage) -> list[dict[str, Any]]:
        """The answers to one message, each shaped like the Rasa REST channel's (minus recipient_id).
        No database connection is held while the NLU and the actions run: the turn reads in one
        short transaction and writes everything it changed in one more."""
        async with self.store.locked(message.sender_id), self._turns:
            async with self.store.reading() as conn:
                tracker = await self.store.load(message.sender_id, conn)
                waiting = await self.custody.with_staff(message.sender_id, conn)
            self._maybe_start_session(tracker)
            answers = await self._turn(tracker, message, waiting=waiting)
            events = list(tracker.new_events)
            message.typed_password = typed_password(events)
            async with self.store.writing() as conn:
                await self.store.save(tracker, channel=message.channel, now=self.clock(), conn=conn)
                said = await self.custody.record(message.sender_id, events, now=self.clock(), conn=conn)
                if said:
                    answers += self._said(said, tracker)
                    await self.store.save(tracker, channel=message.channel, now=self.clock(), conn=conn)
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
        payload = (
            parse_payload(message.text, self.domain.intents)
            or parse_exit_word(message.text)
            or parse_command(message.text)
        )
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

    def _said(self, answers: list[dict[str, Any]], tracker: DialogueTracker) -> list[dict[str, Any]]:
        """Answers that come from the hand-off, not from an action: kept in the history as Rasa keeps
        what is said into a paused conversation."""
        for answer in answers:
            tracker.add(bot_event(answer, ts=self._ts(), utter_action=None))
        return answers

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
        if waiting:
            return await self._with_staff(tracker, message, text)
        parse_data = await self._understand(
            UserMessage(text, message.sender_id, message.channel, message.metadata)
        )
        tracker.add(user_event(parse_data, ts=self._ts(), channel=message.channel, metadata=message.metadata))
        return await self.dialogue.respond(tracker)

    async def _with_staff(
        self, tracker: DialogueTracker, message: UserMessage, text: str
    ) -> list[dict[str, Any]]:
        """Staff have the chat: the message goes to them, not to the NLU; only 返回助手 (/menu) is
        understood, and gives the chat back to the assistant."""
        payload = parse_payload(text, self.domain.intents) or {}
        resume = text == RESUME_WORDS or payload.get("intent", {}).get("name") == RESUME_INTENT
        parse_data = {
            "text": text,
            "intent": {"name": RESUME_INTENT if resume else None, "confidence": 1.0 if resume else 0.0},
            "entities": [],
            "intent_ranking": [],
        }
        tracker.add(user_event(parse_data, ts=self._ts(), channel=message.channel, metadata=message.metadata))
        if not resume:
            return self._said(await self.custody.relay(message, now=self.clock(), conn=None), tracker)
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
