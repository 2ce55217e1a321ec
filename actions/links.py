"""用Telegram继续: a trainee bound in one chat (the web chat, WeChat) gets a t.me link that opens the
Telegram bot with a one-time code, and the Telegram chat that starts with it (`/start <code>`, which
the channel hands in as `/redeem_chat_link{"link_code": ...}`) is bound to the same person without
another SMS code. The code travels in the `link_code` slot only for the turn that uses it, so chat
history keeps it starred (bot/runtime/redaction.py)."""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable

import httpx
from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.client import BackendError
from actions.common import Asked, Resumable, client, come_back_to, entity_value, say_error
from rules.identity import mask_name

LINK_CODE = "link_code"
TELEGRAM = "telegram"  # the input channel of a Telegram chat, in the embedded runtime as in Rasa's
NO_TELEGRAM = "这里还没有开通Telegram（电报），就在这里接着办吧；微信公众号和网页对话也都能用。"
ALREADY_HERE = "您现在就是在Telegram里，直接在这里接着办就行。"

BotName = Callable[[], Awaitable[str | None]]
_bot_name: BotName | None = None
_configured = False
_from_environment: str | None = None


def configure(bot_name: BotName | None) -> None:
    """The composition root hands in how to learn the Telegram bot's @username (Telegram's getMe);
    None when this service has no Telegram channel."""
    global _bot_name, _configured
    _bot_name, _configured = bot_name, True


async def telegram_bot() -> str | None:
    """The bot's @username; under a standalone action server, asked of the Bot API with the token in
    `JIANPEI_TELEGRAM_TOKEN` (at `JIANPEI_TELEGRAM_API_BASE` when set), once."""
    global _from_environment
    if _configured:
        return await _bot_name() if _bot_name is not None else None
    token = os.environ.get("JIANPEI_TELEGRAM_TOKEN")
    if not token:
        return None
    if _from_environment is None:
        base = (os.environ.get("JIANPEI_TELEGRAM_API_BASE") or "https://api.telegram.org").rstrip("/")
        async with httpx.AsyncClient(timeout=30) as http:
            answer = await http.post(f"{base}/bot{token}/getMe")
        answer.raise_for_status()
        _from_environment = str(answer.json()["result"]["username"])
    return _from_environment


class ActionTelegramLink(Resumable):
    """The link, for a bound chat; an unbound one binds first and then gets it."""

    def name(self) -> str:
        return "action_telegram_link"

    async def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, asked: Asked) -> list[EventType]:
        if tracker.get_latest_input_channel() == TELEGRAM:
            dispatcher.utter_message(text=ALREADY_HERE)
            return []
        bot = await telegram_bot()
        if bot is None:
            dispatcher.utter_message(text=NO_TELEGRAM)
            return []
        binding = await client().binding(tracker.sender_id)
        if not binding.bound:
            dispatcher.utter_message(response="utter_need_binding")
            return [come_back_to(self.name())]
        try:
            code = await client().make_chat_link(tracker.sender_id)
        except BackendError as error:
            say_error(dispatcher, error)
            return []
        dispatcher.utter_message(
            text=f"在手机上点这个链接打开Telegram，再点“开始”（START），那边就绑定好您的账号了：\n"
            f"https://t.me/{bot}?start={code}\n"
            "链接10分钟内有效，只能用一次，不要发给别人。"
        )
        return [SlotSet(LINK_CODE, code), SlotSet(LINK_CODE, None)]  # set for history's mask only


class ActionRedeemChatLink(Action):
    """The Telegram chat opened from the link: bound and shown the menu, or told why not and greeted
    (binding by SMS code still works there)."""

    def name(self) -> str:
        return "action_redeem_chat_link"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        code = str(tracker.get_slot(LINK_CODE) or entity_value(tracker, LINK_CODE) or "")
        try:
            binding = await client().redeem_chat_link(tracker.sender_id, code)
        except BackendError as error:
            say_error(dispatcher, error)
            if error.status < 500:
                dispatcher.utter_message(response="utter_greet")
            return [SlotSet(LINK_CODE, None)]
        dispatcher.utter_message(text=f"已绑定：{mask_name(binding.name or '')}")
        dispatcher.utter_message(response="utter_menu")
        return [SlotSet(LINK_CODE, None)]
