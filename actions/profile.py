"""完善个人信息 and the password, in chat. The guide has the trainee fill in 工作单位 and 学历 and change
the initial password after logging in; here the chat's binding stands for the login. The new password
is typed once, used at once and never said back; chat history keeps it starred."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import RESUME, bound_or_explain, client, come_back_to, say_error

SKIP = "-"  # 跳过: this detail stays as it is
SKIP_WORDS = frozenset({"跳过", "不改", "不填", "不用改", "不用填", "先不填", "这个不改", "不变", "下一个"})
CHANGED = "changed"  # new_password once used: the password itself is never kept in a slot
# Words around the answer: 单位是长春一建 / 我在长春一建上班 / 学历大专.
EMPLOYER_AROUND = re.compile(
    r"^(我的|俺的)?(工作)?(单位|公司)(是|叫|名称是|名字是|全称是)?[:：]?|^(我在|俺在)|(上班|工作|干活)$"
)
NOT_AN_EMPLOYER = re.compile(r"[?？]|吗|啥|咋|怎么|什么|为什么|不知道")
# The levels the management system lists, and how people say them; the first one named is taken.
EDUCATION = {
    "研究生": "研究生",
    "硕士": "研究生",
    "博士": "研究生",
    "本科": "本科",
    "大学": "本科",
    "大专": "大专",
    "专科": "大专",
    "高职": "大专",
    "中专": "中专",
    "技校": "中专",
    "职高": "中专",
    "中技": "中专",
    "高中": "高中",
    "初中": "初中",
    "小学": "初中",
}
_EDUCATION = re.compile("|".join(EDUCATION))


def _said(value: Any) -> str:
    return re.sub(r"[\s。，,.!！]", "", str(value or ""))


async def _unbound(form: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType] | None:
    """Ends a form as it starts in a chat bound to nobody (there are nobody's details to change);
    once the chat is bound the form starts again."""
    if tracker.get_slot("requested_slot") is not None or await bound_or_explain(tracker, dispatcher):
        return None
    return [come_back_to(form), SlotSet("requested_slot", None), ActiveLoop(None)]


class ValidateProfileForm(FormValidationAction):
    def name(self) -> str:
        return "validate_profile_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ended = await _unbound("profile_form", dispatcher, tracker)
        return ended if ended is not None else await super().run(dispatcher, tracker, domain)

    def validate_employer(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = _said(value)
        if said in SKIP_WORDS:
            return {"employer": SKIP}
        employer = EMPLOYER_AROUND.sub("", said)
        if NOT_AN_EMPLOYER.search(employer) or not 2 <= len(employer) <= 50:
            dispatcher.utter_message(text="请告诉我单位的名称，比如“吉林建工集团”。不改这一项就说“跳过”。")
            return {"employer": None}
        return {"employer": employer}

    def validate_education(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        said = _said(value)
        if said in SKIP_WORDS:
            return {"education": SKIP}
        named = _EDUCATION.search(said)
        if named is None:
            dispatcher.utter_message(text="没听出是哪个学历，请说初中、高中、中专、大专、本科或研究生。")
            return {"education": None}
        return {"education": EDUCATION[named.group(0)]}


class ActionSaveProfile(Action):
    """After the form: the details given are saved in the management system, and said back."""

    def name(self) -> str:
        return "action_save_profile"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        changes = {
            slot: str(tracker.get_slot(slot))
            for slot in ("employer", "education")
            if tracker.get_slot(slot) not in (None, SKIP)
        }
        cleared: list[EventType] = [
            SlotSet("employer", None),
            SlotSet("education", None),
            SlotSet(RESUME, None),
        ]
        if not changes:
            dispatcher.utter_message(text="好的，个人信息没有改动。")
            return cleared
        try:
            profile = await client().update_profile(tracker.sender_id, **changes)
        except BackendError as error:
            say_error(dispatcher, error)
            return cleared
        employer, education = profile.get("employer") or "未填", profile.get("education") or "未填"
        dispatcher.utter_message(text=f"个人信息已保存：工作单位 {employer}，学历 {education}。")
        return cleared


class ValidatePasswordForm(FormValidationAction):
    def name(self) -> str:
        return "validate_password_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        ended = await _unbound("password_form", dispatcher, tracker)
        return ended if ended is not None else await super().run(dispatcher, tracker, domain)

    async def validate_new_password(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Changes it at once: a password the rules refuse is asked again, the reason said."""
        try:
            message = await client().change_password(tracker.sender_id, str(value or "").strip())
        except BackendError as error:
            say_error(dispatcher, error)
            if error.status == 422:
                dispatcher.utter_message(text="请再输一个新密码。不改了就说“算了”。")
                return {"new_password": None}
            return {"new_password": CHANGED, "requested_slot": None}
        dispatcher.utter_message(text=f"{message}请记好新密码，不要告诉别人。")
        return {"new_password": CHANGED}


class ActionPasswordDone(Action):
    def name(self) -> str:
        return "action_password_done"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet("new_password", None), SlotSet(RESUME, None)]
