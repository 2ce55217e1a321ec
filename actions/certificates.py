"""证书管理 in chat: the trainee's own certificates with status, and what 非正常 means for them."""

from __future__ import annotations

import re

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.client import BackendError, Certificate
from actions.common import Asked, Resumable, client, come_back_to, say_error
from rules.help import HELPLINE

ABNORMAL = "非正常"
# 证书非正常啥意思 / 未按要求完成继续教育是啥: a question about the status, answered before any binding.
ASKS_ABNORMAL = re.compile(r"非正常|不正常|异常|未按要求")


def describe(certificate: Certificate) -> str:
    number = certificate.certificate_number
    line = f"{certificate.position}（{certificate.category}）证书 {number}：{certificate.status}"
    return f"{line}，{certificate.remark}" if certificate.remark else line


class ActionListCertificates(Resumable):
    def name(self) -> str:
        return "action_list_certificates"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        wanted = asked.get("certificate_number")
        binding = await client().binding(tracker.sender_id)
        if not binding.bound:
            if ASKS_ABNORMAL.search(str(tracker.latest_message.get("text") or "")):
                dispatcher.utter_message(response="utter_faq_certificate_abnormal")
                dispatcher.utter_message(text="绑定账号后，我还能帮您查自己每个证书的状态。")
                return []
            dispatcher.utter_message(response="utter_need_binding")
            return [come_back_to(self.name(), certificate_number=wanted)]
        try:
            certificates = await client().certificates(tracker.sender_id)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
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
