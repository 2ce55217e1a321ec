"""证书管理 in chat: the trainee's own certificates with status, and what 非正常 means for them."""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError, Certificate
from actions.common import bound_or_explain, client, entity_value, say_error
from rules.help import HELPLINE

ABNORMAL = "非正常"


def describe(certificate: Certificate) -> str:
    number = certificate.certificate_number
    line = f"{certificate.position}（{certificate.category}）证书 {number}：{certificate.status}"
    return f"{line}，{certificate.remark}" if certificate.remark else line


class ActionListCertificates(Action):
    def name(self) -> str:
        return "action_list_certificates"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not await bound_or_explain(tracker, dispatcher):
            return []
        try:
            certificates = await client().certificates(tracker.sender_id)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
        wanted = entity_value(tracker, "certificate_number")
        if wanted is not None:
            certificates = [c for c in certificates if c.certificate_number == str(wanted)]
            if not certificates:
                dispatcher.utter_message(text="您名下没有这个证书编号。")
                return [SlotSet("certificate_number", None)]
        if not certificates:
            dispatcher.utter_message(
                text=f"您名下还没有证书记录。证书由省建设主管部门上传，如有疑问请拨打 {HELPLINE}。"
            )
            return []
        lines = "\n".join(describe(c) for c in certificates)
        dispatcher.utter_message(text=f"您的证书（{certificates[0].name}）：\n{lines}")
        if any(c.status == ABNORMAL for c in certificates):
            dispatcher.utter_message(
                text="“非正常”是说还没完成继续教育。报名学完规定学时、考核通过后，状态会恢复“正常”。",
                buttons=[{"title": "报名学习", "payload": "/enroll_course"}],
            )
        return []
