"""What every action shares: the chat's binding check, turning backend errors into replies, and
coming back to a request after a detour."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import structlog
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendClient, BackendError, backend
from rules.help import APOLOGY

log = structlog.get_logger(__name__)


def client() -> BackendClient:
    return backend()


async def bound_or_explain(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """True when the chat belongs to a person; otherwise the trainee is told how to bind it."""
    binding = await client().binding(tracker.sender_id)
    if not binding.bound:
        dispatcher.utter_message(response="utter_need_binding")
    return binding.bound


def say_error(dispatcher: CollectingDispatcher, error: BackendError) -> None:
    """A user-caused error is shown in the backend's own words; anything else gets the apology."""
    if error.status >= 500:
        log.error("backend_error", status=error.status, code=error.code)
        dispatcher.utter_message(text=APOLOGY)
        return
    dispatcher.utter_message(text=error.message)


def entity_value(tracker: Tracker, name: str) -> Any:
    return next(tracker.get_latest_entity_values(name), None)


# What the trainee asked for before a detour (binding the chat, the platform account, the photo):
# the detour's end runs it again, with the values he had given.
RESUME = "resume"
RESUMING = "resuming"


def come_back_to(action: str, **values: Any) -> SlotSet:
    """Remembers the request a detour interrupts, with the values it was given."""
    kept = {name: str(value) for name, value in values.items() if value is not None}
    return SlotSet(RESUME, {"action": action, **kept})


def carry_on(tracker: Tracker) -> list[EventType]:
    """At a detour's end: the request it interrupted runs again, with its own values (not those of
    the message that ended the detour: a bare SMS code also reads as a certificate number)."""
    kept = tracker.get_slot(RESUME)
    if isinstance(kept, dict) and isinstance(kept.get("action"), str):
        return [SlotSet(RESUME, {**kept, RESUMING: "1"}), FollowupAction(kept["action"])]
    return []


@dataclass(frozen=True)
class Asked:
    """The values of a request: the latest message's entities, or those of the request a detour
    interrupted when it is the one being taken up again."""

    tracker: Tracker
    kept: dict[str, Any] | None = None

    def get(self, entity: str) -> Any:
        return entity_value(self.tracker, entity) if self.kept is None else self.kept.get(entity)


class Resumable(Action, ABC):
    """An action a detour can come back to. Running it settles any request kept for later: its own
    is taken up now, another one the trainee has since moved on from."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kept = tracker.get_slot(RESUME)
        resumed = isinstance(kept, dict) and kept.get("action") == self.name() and RESUMING in kept
        events = await self.act(dispatcher, tracker, Asked(tracker, kept if resumed else None))
        return ([SlotSet(RESUME, None)] if kept is not None else []) + events

    @abstractmethod
    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        """The action itself, given the values of the request."""
