"""Registering in the management system and binding this chat to the person, by an SMS code.

The ID number and phone are needed turns after they are typed, but slots end up in chat history, which
must never hold them (together they log in): the slots hold their masks, and the values travel sealed
in `reg_sealed` until the chat is bound (see actions/sealed.py)."""

from __future__ import annotations

import re
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import sealed
from actions.client import BackendError
from actions.common import carry_on, client, say_error
from rules.identity import (
    InvalidIdentity,
    mask_id_number,
    mask_phone,
    normalize_phone,
    parse_id_number,
    validate_name,
)

_CODE = re.compile(r"^\d{6}$")
# 我叫赵铁柱 / 姓名：赵铁柱 / 本人赵铁柱: the name is what follows.
_NAME_LEAD = re.compile(
    r"^(我叫|我的名字叫|名字叫|名字是|我的名字是|名字|我是|本人|姓名是|姓名叫|姓名|叫)[:：]?"
)
# 没收到啊 / 再发一个吧 / 重新发送 at a code step: text the code again.
_RESEND = re.compile(r"没收到|没到|没来|收不到|再发|重发|重新发|重新获取|再来一个|再要一个")
RESEND_HINT = "没收到就说“重新发送”。"
# Characters of questions and sentences that no real name is made of (注册要钱不, 我不知道啊).
_NOT_A_NAME = set("我你您他她吗呢吧啊呀嘛么啥咋怎什谁哪没要钱知道注册账号密码手机验证码证书过了？?")
_MASKS = {"reg_id_number": mask_id_number, "reg_phone": mask_phone}
_REG_SLOTS = ("reg_name", "reg_id_number", "reg_phone", "reg_sealed")
SEALED = "reg_sealed"
EXPIRED = "填的内容已过期，请重新填写。"
REGISTERED = "ok"  # reg_code once the account exists: the code itself is never kept


def _text(value: Any) -> str:
    return str(value or "").strip()


def _sealed(tracker: Tracker) -> dict[str, str]:
    found = tracker.get_slot(SEALED)
    return found if isinstance(found, dict) else {}


def _set_aside(
    tracker: Tracker, slot: str, value: str, sealed_so_far: dict[str, str] | None = None
) -> dict[str, Any]:
    """Fills the slot with the value's mask and seals the value for a later turn."""
    kept = {**(_sealed(tracker) if sealed_so_far is None else sealed_so_far)}
    kept[slot] = sealed.seal(client().service_key, value)
    return {slot: _MASKS[slot](value), SEALED: kept}


def _recalled(tracker: Tracker, slot: str, shown: Any = None) -> str | None:
    """The value behind the slot's mask (or behind `shown`), while its seal holds."""
    shown = tracker.get_slot(slot) if shown is None else shown
    token = _sealed(tracker).get(slot)
    value = sealed.unseal(client().service_key, token) if isinstance(token, str) else None
    return value if value is not None and _MASKS[slot](value) == shown else None


def set_aside_details(tracker: Tracker, name: str, id_number: str, phone: str) -> list[EventType]:
    """The registration slots of a known person: the name as is, the ID number and phone sealed."""
    kept = {"reg_name": name} | _set_aside(tracker, "reg_id_number", id_number)
    kept |= _set_aside(tracker, "reg_phone", phone, kept[SEALED])
    return [SlotSet(slot, value) for slot, value in kept.items()]


def _cleared(tracker: Tracker, *slots: str) -> list[EventType]:
    return [SlotSet(slot, None) for slot in {*slots, SEALED}]


class ValidateRegistrationForm(FormValidationAction):
    def name(self) -> str:
        return "validate_registration_form"

    async def validate_reg_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """A plausible name, or nothing stored; after a name mismatch the kept ID number and phone
        are checked again with the new name and the code is texted."""
        said = re.sub(r"\s", "", _text(value))
        if _NOT_A_NAME & set(said) and not _NAME_LEAD.match(said):
            dispatcher.utter_message(
                text="这句不像姓名，我先不记。注册不收费，有不懂的随时问我。"
                "请告诉我身份证上的真实姓名，比如“我叫张三”；不办了就说“算了”。"
            )
            return {"reg_name": None}
        try:
            name = validate_name(_NAME_LEAD.sub("", said))
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_name": None}
        id_number, phone = _recalled(tracker, "reg_id_number"), _recalled(tracker, "reg_phone")
        if id_number is None or phone is None:
            return {"reg_name": name}
        return {"reg_name": name} | await _text_code(dispatcher, tracker, name, id_number, phone)

    def validate_reg_id_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        kept = _recalled(tracker, "reg_id_number", value)
        try:
            id_number = kept or parse_id_number(_text(value).replace(" ", "")).value
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_id_number": None}
        return _set_aside(tracker, "reg_id_number", id_number)

    async def validate_reg_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The backend checks the details and texts the registration code to this phone; details
        that cannot register end the form here, before anyone waits for a code."""
        try:
            phone = _recalled(tracker, "reg_phone", value) or normalize_phone(_text(value))
        except InvalidIdentity as exc:
            dispatcher.utter_message(text=str(exc))
            return {"reg_phone": None}
        id_number = _recalled(tracker, "reg_id_number")
        if id_number is None:
            dispatcher.utter_message(text=EXPIRED, buttons=[{"title": "重新注册", "payload": "/register"}])
            return _given_up(tracker)
        return await _text_code(dispatcher, tracker, str(tracker.get_slot("reg_name")), id_number, phone)

    async def validate_reg_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Registers with the code: a wrong one is asked again, an expired one starts from the phone."""
        code = re.sub(r"\s", "", _text(value))
        name = str(tracker.get_slot("reg_name"))
        id_number, phone = _recalled(tracker, "reg_id_number"), _recalled(tracker, "reg_phone")
        if _RESEND.search(code) and id_number and phone:
            await _resent(dispatcher, lambda: client().send_registry_code(name, id_number, phone), phone)
            return {"reg_code": None}
        if not _CODE.match(code):
            dispatcher.utter_message(text="验证码是短信里的6位数字，请再输一遍。" + RESEND_HINT)
            return {"reg_code": None}
        if id_number is None or phone is None:
            dispatcher.utter_message(text=EXPIRED, buttons=[{"title": "重新注册", "payload": "/register"}])
            return _given_up(tracker)
        try:
            await client().register(name, id_number, phone, code)
        except BackendError as error:
            if error.code == "sms_code_wrong":
                say_error(dispatcher, error)
                return {"reg_code": None}
            if error.code in {"sms_code_expired", "sms_code_exhausted", "sms_code_missing"}:
                say_error(dispatcher, error)
                dispatcher.utter_message(text="请再输一遍手机号，重新发验证码。")
                return {"reg_code": None, "reg_phone": None}
            _refused(dispatcher, error)
            return _given_up(tracker)
        return {"reg_code": REGISTERED}


async def _text_code(
    dispatcher: CollectingDispatcher, tracker: Tracker, name: str, id_number: str, phone: str
) -> dict[str, Any]:
    """The backend checks the details and texts the code. A name that does not match the ID number
    is asked again alone; the ID number and phone stay."""
    kept = _set_aside(tracker, "reg_phone", phone)
    try:
        await client().send_registry_code(name, id_number, phone)
    except BackendError as error:
        if error.code == "name_mismatch":
            dispatcher.utter_message(
                text=f"姓名“{name}”和身份证号 {mask_id_number(id_number)} 对不上。"
                "身份证号和手机号我都记着，请再输一遍身份证上的姓名。"
            )
            return kept | {"reg_name": None, "requested_slot": "reg_name"}
        if error.code != "sms_too_soon":
            _refused(dispatcher, error)
            return _given_up(tracker)
        dispatcher.utter_message(text="验证码刚发过，请用刚才收到的那条短信里的数字。")
        return kept
    dispatcher.utter_message(
        text=f"将用 {name}、身份证 {mask_id_number(id_number)} 注册。"
        f"验证码已发到 {mask_phone(phone)}，5分钟内有效，请输入6位数字。"
    )
    return kept


async def _resent(dispatcher: CollectingDispatcher, send: Any, phone: str) -> None:
    """Texts the code again, or says how long to wait (60 s between codes, 10 a day per phone)."""
    try:
        await send()
    except BackendError as error:
        say_error(dispatcher, error)
        return
    dispatcher.utter_message(text=f"验证码已重新发到 {mask_phone(phone)}，5分钟内有效，请输入6位数字。")


def _refused(dispatcher: CollectingDispatcher, error: BackendError) -> None:
    """Details that cannot register: an account already there can be bound, anything else retyped."""
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


def _given_up(tracker: Tracker) -> dict[str, Any]:
    """Ends the registration form (an empty `requested_slot`) with nothing kept."""
    return {"requested_slot": None, "reg_code": None} | {slot: None for slot in _REG_SLOTS}


class ActionRegister(Action):
    """After the form: the account exists (its code was right), so the platform's signup follows;
    a form the validator ended has already said why."""

    def name(self) -> str:
        return "action_register"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = _recalled(tracker, "reg_phone")
        if tracker.get_slot("reg_code") != REGISTERED or phone is None:
            return []
        dispatcher.utter_message(text="管理系统账号注册成功：账号是身份证号，初始密码是手机号。")
        return [SlotSet("reg_code", None), *await start_learning_signup(dispatcher, tracker, phone)]


async def start_learning_signup(
    dispatcher: CollectingDispatcher, tracker: Tracker, phone: str
) -> list[EventType]:
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
            return _cleared(tracker, *_REG_SLOTS)
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
        name = str(tracker.get_slot("reg_name"))
        id_number, phone = _recalled(tracker, "reg_id_number"), _recalled(tracker, "reg_phone")
        if _RESEND.search(code) and phone:
            await _resent(dispatcher, lambda: client().send_learning_code(phone), phone)
            return {"signup_code": None}
        if not _CODE.match(code):
            dispatcher.utter_message(text="验证码是短信里的6位数字，请再输一遍。" + RESEND_HINT)
            return {"signup_code": None}
        if id_number is None or phone is None:
            dispatcher.utter_message(text=EXPIRED, buttons=[{"title": "取消", "payload": "/cancel"}])
            return {"signup_code": None}
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
            phone = _recalled(tracker, "reg_phone", value) or normalize_phone(_text(value))
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
            return _set_aside(tracker, "reg_phone", phone)
        dispatcher.utter_message(
            text=f"验证码已发到 {mask_phone(phone)}，5分钟内有效，请输入6位数字。{RESEND_HINT}"
        )
        return _set_aside(tracker, "reg_phone", phone)

    async def validate_sms_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code = re.sub(r"\s", "", _text(value))
        phone = _recalled(tracker, "reg_phone")
        if _RESEND.search(code) and phone:
            await _resent(dispatcher, lambda: client().send_code(phone, "bind_chat"), phone)
            return {"sms_code": None}
        if not _CODE.match(code):
            dispatcher.utter_message(text="验证码是短信里的6位数字，请再输一遍。" + RESEND_HINT)
            return {"sms_code": None}
        if phone is None:
            dispatcher.utter_message(text=EXPIRED)
            return {"sms_code": None, "reg_phone": None}
        try:
            binding = await client().bind_with_code(tracker.sender_id, phone, code)
        except BackendError as error:
            say_error(dispatcher, error)
            if error.code in {"sms_code_expired", "sms_code_exhausted", "sms_code_missing", "not_registered"}:
                return {"sms_code": None, "reg_phone": None}
            return {"sms_code": None}
        return {"sms_code": "ok", "bound_name": binding.name}


class ActionBind(Action):
    """The chat is now the person's: say so, advise a strong password, forget the typed details, and
    take up the request that needed the binding (or the platform account), if there was one."""

    def name(self) -> str:
        return "action_bind"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_bound")
        dispatcher.utter_message(response="utter_password_advice")
        return [*_cleared(tracker, "sms_code", "signup_code", "reg_code", *_REG_SLOTS), *carry_on(tracker)]
