"""The assessment form: each answer is saved at once; after the last one the paper is handed in."""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import client, entity_value, say_error
from actions.learning import question_message

TRUE_FALSE = ["正确", "错误"]
SAID_TRUE = {"对", "对的", "正确", "是", "是的", "对啊", "√"}
SAID_FALSE = {"错", "错的", "错误", "不对", "不是", "×"}
AROUND = re.compile(r"^(我选|选|答案是|答案|答)|(选项|项|吧|呗|啊|的)$")


def typed_answer(value: Any, options: list[str]) -> str:
    """选b, Ｂ, B选项 -> B; 对的/错的 for a true-false question -> A/B."""
    said = re.sub(r"[\s,，、.。!！]", "", unicodedata.normalize("NFKC", str(value or "")))
    if options == TRUE_FALSE and said in SAID_TRUE | SAID_FALSE:
        return "A" if said in SAID_TRUE else "B"
    return AROUND.sub("", AROUND.sub("", said)).upper()


class ValidateAssessmentForm(FormValidationAction):
    def name(self) -> str:
        return "validate_assessment_form"

    async def validate_answer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
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
                question = next(q for q in paper["questions"] if q["index"] == paper["next_index"])
                answer = typed_answer(value, list(question["options"]))
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
        else:  # the backend's words say when the next paper may be asked for
            dispatcher.utter_message(
                text=f"{paper['message']}。到时跟我说“再考一次”。",
                buttons=[{"title": "再考一次", "payload": "/start_assessment"}],
            )
        return {"answer": "done"}
