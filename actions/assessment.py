"""The assessment form: each answer is saved at once; after the last one the paper is handed in."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import client, entity_value, say_error
from actions.learning import question_message


class ValidateAssessmentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_assessment_form"

    async def validate_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        answer = re.sub(r"[\s,，、]", "", str(value or "")).upper()
        enrolment = int(tracker.get_slot("exam_enrolment") or 0)
        backend = client()
        try:
            paper = await backend.start_paper(tracker.sender_id, enrolment)
            tapped = entity_value(tracker, "question")
            if tapped is not None and str(tapped) != str(paper["next_index"]):
                dispatcher.utter_message(text=f"第{tapped}题已经答过了，请答下面这道。")
                dispatcher.utter_message(**question_message(paper))
                return {"answer": None}
            if paper["next_index"] is not None:
                paper = await backend.answer(tracker.sender_id, enrolment, paper["next_index"], answer)
            if paper["next_index"] is not None:
                return {"answer": None}  # the next question is asked
            paper = await backend.submit_paper(tracker.sender_id, enrolment)
        except BackendError as error:
            say_error(dispatcher, error)
            return {"answer": None} if error.status == 422 else {"answer": "stopped"}
        if paper["passed"]:
            dispatcher.utter_message(
                text=f"{paper['message']}。学时审核通过后就能下载学时证明。",
                buttons=[
                    {"title": "学时证明", "payload": "/training_proof"},
                    {"title": "电子证书", "payload": "/renew_certificate"},
                ],
            )
        else:
            dispatcher.utter_message(text=paper["message"])
        return {"answer": "done"}
