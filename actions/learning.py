"""Enrolment, learning, assessment, training proof and e-certificate in chat."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import bound_or_explain

NOT_YET = "这项业务暂时请到继续教育平台 http://zyk.etledu.com 办理；有问题请拨打 4009999355。"


class _PlatformAction(Action, ABC):
    @abstractmethod
    def name(self) -> str: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if await bound_or_explain(tracker, dispatcher):
            dispatcher.utter_message(text=NOT_YET)
        return []


class ActionEnrol(_PlatformAction):
    def name(self) -> str:
        return "action_enrol"


class ActionLearningStart(_PlatformAction):
    def name(self) -> str:
        return "action_learning_start"


class ActionLearningProgress(_PlatformAction):
    def name(self) -> str:
        return "action_learning_progress"


class ActionAssessment(_PlatformAction):
    def name(self) -> str:
        return "action_assessment"


class ActionTrainingProof(_PlatformAction):
    def name(self) -> str:
        return "action_training_proof"


class ActionECertificate(_PlatformAction):
    def name(self) -> str:
        return "action_e_certificate"
