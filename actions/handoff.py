"""Hand-off: the chat is handed to staff with Rasa's own `pause` event (the runtime's hand-off keeps
the status), and the trainee is told so."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionHandoff(Action):
    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff")
        return [ConversationPaused()]
