"""Old inline keyboards: once a button is pressed, the trainee writes instead, or a newer keyboard
arrives, the older message loses its buttons (editMessageReplyMarkup), and a tap that still comes
from it is answered in Chinese and runs no turn."""

from __future__ import annotations

from fastapi import FastAPI

from bot.channels.telegram.channel import OLD_BUTTON
from services.context import Backend
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser
from tests.telegram.fake_api import Call, FakeTelegram
from tests.telegram.test_webhook import user_turns


def buttons_taken_off(calls: list[Call]) -> list[int | None]:
    return [c.message_id for c in calls if c.method == "editMessageReplyMarkup" and not c.markup]


async def test_a_pressed_keyboard_loses_its_buttons_and_a_second_tap_on_it_is_refused(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await tg_user.say("/start")
    menu = tg_user.buttons[0]
    clock.advance(seconds=5)
    calls = await tg_user.send(tg_user.updates.press(menu["callback_data"], menu["message_id"]))
    assert buttons_taken_off(calls) == [menu["message_id"]]
    turns = await user_turns(backend, tg_user.conversation_id)

    clock.advance(seconds=5)
    again = await tg_user.send(tg_user.updates.press(menu["callback_data"], menu["message_id"]))
    assert [c.fields.get("text") for c in again if c.method == "sendMessage"] == [OLD_BUTTON]
    toasts = [c.fields.get("text") for c in fake.calls if c.method == "answerCallbackQuery"]
    assert toasts[-1] == OLD_BUTTON
    assert await user_turns(backend, tg_user.conversation_id) == turns


async def test_writing_instead_or_a_newer_keyboard_retires_the_old_one(
    telegram_app: FastAPI, tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await tg_user.say("/start")
    greeting = tg_user.buttons[0]
    clock.advance(seconds=5)
    calls = await tg_user.send(tg_user.updates.text("我要注册"))
    assert greeting["message_id"] in buttons_taken_off(calls)
    clock.advance(seconds=5)
    stale = await tg_user.send(tg_user.updates.press(greeting["callback_data"], greeting["message_id"]))
    assert OLD_BUTTON in [c.fields.get("text") for c in stale]

    notice = {"text": "提醒", "buttons": [{"title": "去学习", "payload": "/start_learning"}]}
    before = len(fake.calls)
    await telegram_app.state.outbound.send(tg_user.conversation_id, [notice])
    await telegram_app.state.outbound.send(tg_user.conversation_id, [notice])
    first, second = [c for c in fake.calls[before:] if c.method == "sendMessage"]
    assert buttons_taken_off(fake.calls[before:]) == [first.message_id]
    turns = await user_turns(backend, tg_user.conversation_id)
    clock.advance(seconds=5)
    pressed = await tg_user.send(tg_user.updates.press(first.buttons[0]["callback_data"], first.message_id))
    assert OLD_BUTTON in [c.fields.get("text") for c in pressed]
    assert await user_turns(backend, tg_user.conversation_id) == turns
    assert second.buttons
