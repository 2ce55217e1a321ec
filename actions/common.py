"""What every action shares: the chat's binding check and turning backend errors into replies."""

from __future__ import annotations

from typing import Any

import structlog
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

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
