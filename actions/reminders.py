"""退订提醒 / 恢复提醒: every reminder and broadcast says how to stop them; completion notices still
come, since they are the news the trainee waited for."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import bound_or_explain, client, say_error


class ActionStopReminders(Action):
    def name(self) -> str:
        return "action_stop_reminders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not await bound_or_explain(tracker, dispatcher):
            return []
        try:
            await client().reminders(tracker.sender_id, wanted=False)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
        dispatcher.utter_message(
            text="好的，以后不再给您发学习提醒和通知了；学完的消息还会告诉您。想再收提醒，回复“恢复提醒”。"
        )
        return []


class ActionResumeReminders(Action):
    def name(self) -> str:
        return "action_resume_reminders"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not await bound_or_explain(tracker, dispatcher):
            return []
        try:
            await client().reminders(tracker.sender_id, wanted=True)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
        dispatcher.utter_message(text="好的，提醒已恢复。不想收了随时回复“退订提醒”。")
        return []
