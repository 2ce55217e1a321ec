"""One dialogue step: after a user message, which actions run. Rules first (with the form's own
rules while a form is active), then the active form, then the three-step fallback: rephrase, offer
options, offer a person."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import structlog

from bot.runtime.choices import STUCK, last_question_text, pending_step, take_choice, typed_choice
from bot.runtime.domain import REQUESTED_SLOT, Domain
from bot.runtime.executor import ActionRunner
from bot.runtime.forms import extract, is_custom
from bot.runtime.logid import chat_tag
from bot.runtime.responses import from_dispatcher, render
from bot.runtime.rules import RuleBook
from bot.runtime.tracker import DialogueTracker, action_event, bot_event, loop_event, slot_event
from nlu import FALLBACK_INTENT
from rules.help import APOLOGY

log = structlog.get_logger(__name__)

DEACTIVATE_LOOP = "action_deactivate_loop"
MISSES_SLOT = "misses"
# utter_default first: what a Rasa server says from action_default_fallback, every time.
FALLBACK_STEPS = ("utter_default", "utter_fallback_options", "utter_fallback_human")
MAX_ACTIONS_PER_TURN = 12
# Answers that end a step rather than interrupt it: after a question the step is asked again.
MOVES = frozenset({"cancel", "deny", "affirm", "menu", "greet", "goodbye", "thank", "human_handoff"})
CHINA = timezone(timedelta(hours=8))  # 今年 is the trainee's year
# Inside a form these are answers to the form's question, never a change of subject.
NOT_DIGRESSIONS = frozenset({"affirm", "deny", "inform", "greet", "thank", "goodbye"})
# Slots that hold an answer awaited at one step only, and the intents that answer it (a yes, or a
# no that lets the step's own action clean up). Any other message leaves the step, so the slot is
# forgotten: a stale 确认提交 tap never submits a photo.
STEP_SLOTS: dict[str, frozenset[str]] = {
    "photo_check": frozenset({"confirm_photo", "affirm", "deny", "cancel"})
}


class Dialogue:
    def __init__(
        self, domain: Domain, rules: RuleBook, runner: ActionRunner, now: Callable[[], float]
    ) -> None:
        self.domain = domain
        self.rules = rules
        self.runner = runner
        self.now = now

    # -- the step ---------------------------------------------------------------------------------

    async def respond(self, tracker: DialogueTracker) -> list[dict[str, Any]]:
        """Run the actions for the latest user message; returns the messages for the user."""
        messages: list[dict[str, Any]] = []
        self._budget = MAX_ACTIONS_PER_TURN
        step = pending_step(tracker)
        asked = last_question_text(tracker)
        missed = False  # the message left the step where it was: counted like an unknown word
        chosen = typed_choice(tracker, self.domain.intents, datetime.fromtimestamp(self.now(), CHINA).year)
        if chosen is not None:
            take_choice(tracker, chosen)
        for slot, answers in STEP_SLOTS.items():
            if tracker.slots.get(slot) is not None and tracker.intent not in answers:
                tracker.add(slot_event(slot, None, ts=self.now()))
        for name, value in extract(self.domain, tracker, in_form=False).items():
            if tracker.slots.get(name) != value and not (
                tracker.active_loop and name in self.domain.forms.get(tracker.active_loop, [])
            ):
                tracker.add(slot_event(name, value, ts=self.now()))
        intent = tracker.intent
        understood = self._understood(tracker)
        loop = tracker.active_loop
        if loop:
            rule = self.rules.for_intent(intent, loop) if understood else None
            if rule is not None and (rule.activates not in (None, loop) or intent in NOT_DIGRESSIONS):
                rule = None  # one form at a time: leave this one (取消) before starting another
            requested = tracker.requested_slot
            digression = (
                rule is not None
                and rule.activates != loop
                and requested is not None
                and is_custom(self.domain, requested)
            )
            if rule is not None and rule.loop_condition == loop:
                await self._run_rule_actions(rule.actions, rule.activates, tracker, messages)
            elif not digression and await self._run_form(loop, tracker, messages, activation=False):
                missed = (
                    tracker.active_loop == loop
                    and tracker.requested_slot == requested
                    and tracker.slots.get(requested or "") is None
                    and not self._asked_anew(tracker)
                )
            elif rule is not None:
                await self._run_rule_actions(rule.actions, rule.activates, tracker, messages)
                if tracker.active_loop == loop:
                    await self._ask(loop, tracker, messages)
            else:
                reply = "utter_unexpected_photo" if intent == "send_photo" else "utter_need_text"
                await self._run_action(reply, tracker, messages)
                await self._ask(loop, tracker, messages)
                missed = True
        else:
            rule = self.rules.for_intent(intent, None, tracker.action_before_message) if understood else None
            if rule is None:
                await self._fallback(tracker, messages)
            else:
                await self._run_rule_actions(rule.actions, rule.activates, tracker, messages)
                if (
                    step is not None
                    and intent not in MOVES
                    and all(a.startswith("utter_") for a in rule.actions)
                ):
                    self._say([step], None, tracker, messages)
                elif asked and messages and messages[-1].get("text") == asked:
                    missed = True  # the same step asked again, "understood" or not
        if missed:
            misses = int(tracker.slots.get(MISSES_SLOT) or 0) + 1
            tracker.add(slot_event(MISSES_SLOT, misses, ts=self.now()))
            if misses >= len(FALLBACK_STEPS):
                await self._run_action(STUCK, tracker, messages)
        elif tracker.slots.get(MISSES_SLOT) and (understood or loop):  # the step moved on
            tracker.add(slot_event(MISSES_SLOT, 0, ts=self.now()))
        tracker.add(action_event("action_listen", ts=self.now()))
        return messages

    @staticmethod
    def _asked_anew(tracker: DialogueTracker) -> bool:
        """This turn asked a question (the next one of a paper, say) rather than refusing the answer."""
        for event in reversed(tracker.new_events):
            if event.get("event") == "user":
                return False
            name = str(event.get("name") or "")
            if event.get("event") == "action" and name.startswith(("utter_ask_", "action_ask_")):
                return True
        return False

    def _understood(self, tracker: DialogueTracker) -> bool:
        """The NLU already said nlu_fallback below config.yml's threshold (both engines read it)."""
        name = (tracker.latest_message.get("intent") or {}).get("name")
        return bool(name) and name in self.domain.intents and name != FALLBACK_INTENT

    async def _fallback(self, tracker: DialogueTracker, messages: list[dict[str, Any]]) -> None:
        misses = int(tracker.slots.get(MISSES_SLOT) or 0) + 1
        tracker.add(slot_event(MISSES_SLOT, misses, ts=self.now()))
        await self._run_action(FALLBACK_STEPS[min(misses, len(FALLBACK_STEPS)) - 1], tracker, messages)

    async def _run_rule_actions(
        self,
        actions: tuple[str, ...],
        activates: str | None,
        tracker: DialogueTracker,
        messages: list[dict[str, Any]],
    ) -> None:
        for name in actions:
            if name == activates:
                await self._run_form(name, tracker, messages, activation=True)
            else:
                await self._run_action(name, tracker, messages)

    # -- actions ----------------------------------------------------------------------------------

    async def _run_action(self, name: str, tracker: DialogueTracker, messages: list[dict[str, Any]]) -> None:
        self._budget -= 1
        if self._budget < 0:
            log.warning("action_budget_exhausted", chat=chat_tag(tracker.sender_id), action=name)
            return
        if self.domain.is_form(name):
            await self._run_form(name, tracker, messages, activation=tracker.active_loop != name)
            return
        tracker.add(action_event(name, ts=self.now()))
        if name == DEACTIVATE_LOOP:
            tracker.add(loop_event(None, ts=self.now()))
            tracker.add(slot_event(REQUESTED_SLOT, None, ts=self.now()))
            return
        if name.startswith("utter_"):
            self._say(render(self.domain, name, tracker.slots), name, tracker, messages)
            return
        if not self.runner.knows(name):
            log.error("unknown_action", action=name)
            return
        try:
            result = await self.runner.run(name, tracker)
        except Exception:
            log.exception("action_failed", action=name, chat=chat_tag(tracker.sender_id))
            self._say([{"text": APOLOGY}], None, tracker, messages)
            if tracker.active_loop:
                tracker.add(loop_event(None, ts=self.now()))
                tracker.add(slot_event(REQUESTED_SLOT, None, ts=self.now()))
            return
        for response in result.responses:
            self._say(
                from_dispatcher(self.domain, tracker.slots, response),
                response.get("response"),
                tracker,
                messages,
            )
        followup = None
        for event in result.events:
            if event.get("event") == "followup":
                followup = event.get("name")
                continue
            tracker.add({**event, "timestamp": event.get("timestamp") or self.now()})
        if followup:
            await self._run_action(str(followup), tracker, messages)

    def _say(
        self,
        rendered: list[dict[str, Any]],
        utter: str | None,
        tracker: DialogueTracker,
        messages: list[dict[str, Any]],
    ) -> None:
        for message in rendered:
            tracker.add(bot_event(message, ts=self.now(), utter_action=utter))
            messages.append(message)

    # -- forms ------------------------------------------------------------------------------------

    async def _run_form(
        self, form: str, tracker: DialogueTracker, messages: list[dict[str, Any]], *, activation: bool
    ) -> bool:
        """Fill, validate and ask; False when the message gave the form nothing to work with."""
        required = self.domain.forms[form]
        if activation:
            tracker.add(action_event(form, ts=self.now()))
            tracker.add(loop_event(form, ts=self.now()))
            candidates = extract(self.domain, tracker, in_form=True)
            candidates = {k: v for k, v in candidates.items() if k in required}
            for slot in required:
                if slot not in candidates and tracker.slots.get(slot) is not None:
                    candidates[slot] = tracker.slots[slot]
        else:
            requested = tracker.requested_slot
            candidates = {
                k: v for k, v in extract(self.domain, tracker, in_form=True).items() if k in required
            }
            custom = requested is not None and is_custom(self.domain, requested)
            if requested not in candidates and not custom:
                return False
            tracker.add(action_event(form, ts=self.now()))
        for slot, value in candidates.items():
            tracker.add(slot_event(slot, value, ts=self.now()))
        said_before = len(messages)
        validator = f"validate_{form}"
        next_slot: str | bool | None = False  # False: not decided by the validator
        if self.runner.knows(validator):
            try:
                result = await self.runner.run(validator, tracker)
            except Exception:
                log.exception("validation_failed", form=form, chat=chat_tag(tracker.sender_id))
                self._say([{"text": APOLOGY}], None, tracker, messages)
                tracker.add(loop_event(None, ts=self.now()))
                tracker.add(slot_event(REQUESTED_SLOT, None, ts=self.now()))
                return True
            for response in result.responses:
                self._say(
                    from_dispatcher(self.domain, tracker.slots, response),
                    response.get("response"),
                    tracker,
                    messages,
                )
            for event in result.events:
                if event.get("event") == "slot" and event.get("name") == REQUESTED_SLOT:
                    next_slot = event.get("value")
                    continue
                tracker.add({**event, "timestamp": event.get("timestamp") or self.now()})
            if tracker.active_loop != form:  # the validator ended the form itself
                return True
        if next_slot is False:
            next_slot = next((slot for slot in required if tracker.slots.get(slot) is None), None)
        if next_slot is None:
            tracker.add(slot_event(REQUESTED_SLOT, None, ts=self.now()))
            tracker.add(loop_event(None, ts=self.now()))
            completion = self.rules.on_completion(form)
            if completion is not None:
                for name in completion.actions:
                    if name != form:
                        await self._run_action(name, tracker, messages)
            return True
        tracker.add(slot_event(REQUESTED_SLOT, next_slot, ts=self.now()))
        if len(messages) == said_before or activation:
            await self._ask(form, tracker, messages)
        return True

    async def _ask(self, form: str, tracker: DialogueTracker, messages: list[dict[str, Any]]) -> None:
        slot = tracker.requested_slot
        if slot is None:
            return
        ask_action = f"action_ask_{slot}"
        await self._run_action(
            ask_action if self.runner.knows(ask_action) else f"utter_ask_{slot}", tracker, messages
        )
