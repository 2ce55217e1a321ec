"""Registering in the management system and binding this chat to the person, by an SMS code."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import client, say_error
from services.identity import InvalidIdentity, mask_phone, normalize_phone, parse_id_number, validate_name

_CODE = re.compile(r"^\d{6}$")


def _text(value: Any) -> str:
    return str(value or "").strip()


class ValidateRegistrationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_form"

    def validate_reg_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            return {"reg_name": validate_name(_text(value))}
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_name": None}

    def validate_reg_id_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            return {"reg_id_number": parse_id_number(_text(value).replace(" ", "")).value}
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_id_number": None}

    def validate_reg_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            return {"reg_phone": normalize_phone(_text(value))}
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_phone": None}


class ActionRegister(Action):
    """Creates the management-system account, then binds the chat through the SMS code."""

    def name(self) -> str:
        return "action_register"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        name, id_number, phone = (tracker.get_slot(s) for s in ("reg_name", "reg_id_number", "reg_phone"))
        try:
            await client().register(str(name), str(id_number), str(phone))
        except BackendError as error:
            say_error(dispatcher, error)
            if error.status == 409:
                dispatcher.utter_message(
                    text="如果是您本人注册过，点“绑定已有账号”就行。",
                    buttons=[{"title": "绑定已有账号", "payload": "/bind_account"}],
                )
            else:
                dispatcher.utter_message(
                    text="填的内容已清空，改好后点“重新注册”再来一遍。",
                    buttons=[{"title": "重新注册", "payload": "/register"}],
                )
            return [SlotSet("reg_name", None), SlotSet("reg_id_number", None), SlotSet("reg_phone", None)]
        dispatcher.utter_message(text="管理系统账号注册成功：账号是身份证号，初始密码是手机号。")
        return await start_learning_signup(dispatcher, str(phone))


async def start_learning_signup(dispatcher: CollectingDispatcher, phone: str) -> list[EventType]:
    """Text the platform's registration code and ask for it; a phone already on the platform binds
    through the chat code instead."""
    try:
        await client().send_learning_code(phone)
    except BackendError as error:
        if error.status == 409:
            dispatcher.utter_message(text="这个手机号已经注册过继续教育平台，下面用验证码绑定账号。")
            return [SlotSet("reg_name", None), SlotSet("reg_id_number", None), FollowupAction("binding_form")]
        if error.code != "sms_too_soon":
            say_error(dispatcher, error)
            return [SlotSet("reg_name", None), SlotSet("reg_id_number", None), SlotSet("reg_phone", None)]
    return [FollowupAction("signup_form")]


class ValidateSignupForm(FormValidationAction):
    """The platform's registration code: registers the platform account, then binds this chat by a
    login of that new account (the code already proved the phone)."""

    def name(self) -> str:
        return "validate_signup_form"

    async def validate_signup_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = re.sub(r"\s", "", _text(value))
        if not _CODE.match(code):
            dispatcher.utter_message(text="验证码是短信里的6位数字，请再输一遍。")
            return {"signup_code": None}
        name, id_number, phone = (
            str(tracker.get_slot(s)) for s in ("reg_name", "reg_id_number", "reg_phone")
        )
        backend = client()
        try:
            await backend.register_learning(name, id_number, phone, code)
            token = await backend.learning_login(id_number, phone)
            binding = await backend.bind_with_token(tracker.sender_id, token, "learning")
        except BackendError as error:
            say_error(dispatcher, error)
            return {"signup_code": None}
        dispatcher.utter_message(text="继续教育平台也注册好了，两个系统的账号都是身份证号。")
        return {"signup_code": "ok", "bound_name": binding.name}


class ValidateBindingForm(FormValidationAction):
    def name(self) -> str:
        return "validate_binding_form"

    async def validate_reg_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        try:
            phone = normalize_phone(_text(value))
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_phone": None}
        try:
            await client().send_code(phone, "bind_chat")
        except BackendError as error:
            if error.code != "sms_too_soon":
                say_error(dispatcher, error)
                return {"reg_phone": None}
            dispatcher.utter_message(text="验证码刚发过，请用刚才收到的那条短信里的数字。")
            return {"reg_phone": phone}
        dispatcher.utter_message(text=f"验证码已发到 {mask_phone(phone)}，5分钟内有效，请输入6位数字。")
        return {"reg_phone": phone}

    async def validate_sms_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = re.sub(r"\s", "", _text(value))
        if not _CODE.match(code):
            dispatcher.utter_message(text="验证码是短信里的6位数字，请再输一遍。")
            return {"sms_code": None}
        try:
            binding = await client().bind_with_code(
                tracker.sender_id, str(tracker.get_slot("reg_phone")), code
            )
        except BackendError as error:
            say_error(dispatcher, error)
            if error.code in {"sms_code_expired", "sms_code_exhausted", "sms_code_missing", "not_registered"}:
                return {"sms_code": None, "reg_phone": None}
            return {"sms_code": None}
        return {"sms_code": "ok", "bound_name": binding.name}


class ActionBind(Action):
    """The chat is now the person's: say so, advise a strong password, forget the typed details."""

    def name(self) -> str:
        return "action_bind"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_bound")
        dispatcher.utter_message(response="utter_password_advice")
        return [
            SlotSet(slot, None)
            for slot in ("sms_code", "signup_code", "reg_name", "reg_id_number", "reg_phone")
        ]
