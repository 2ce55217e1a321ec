"""Answers as Telegram messages and Telegram messages as turns: long texts split, buttons as an
inline keyboard (long payloads behind a key, every press answered), photos in (the largest size, or
a photo sent as a file), hints for what the assistant cannot read, the repaired photo out."""

from __future__ import annotations

import json

from fastapi import FastAPI
from sqlalchemy import select

from bot.channels.telegram.channel import NOT_IMAGE, NOT_UNDERSTOOD, TOO_BIG
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ConversationEvent
from tests.assistant.stories import bind_demo_trainee, photo
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser
from tests.telegram.fake_api import FakeTelegram


async def user_events(backend: Backend, conversation: str) -> list[dict[str, object]]:
    async with backend.sessions() as session:
        rows = await session.scalars(
            select(ConversationEvent.data)
            .where(ConversationEvent.sender_id == conversation, ConversationEvent.type_name == "user")
            .order_by(ConversationEvent.id)
        )
        return [json.loads(row) for row in rows]


async def test_start_greets_with_an_inline_keyboard_and_a_press_is_answered_and_understood(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    assert "建培助手" in await tg_user.say("/start")
    assert tg_user.buttons and all(len(b["callback_data"].encode()) <= 64 for b in tg_user.buttons)
    clock.advance(seconds=5)
    pressed = tg_user.buttons[0]
    await tg_user.press(pressed["text"])
    assert [c.method for c in fake.calls].count("answerCallbackQuery") == 1
    events = await user_events(backend, tg_user.conversation_id)
    assert len(events) == 2 and events[-1]["text"] == pressed["callback_data"]


async def test_a_long_text_is_split_and_a_long_payload_travels_as_a_short_key(
    telegram_app: FastAPI, tg_user: TelegramUser, fake: FakeTelegram, backend: Backend
) -> None:
    text = "\n".join(f"第{n}行：" + "证书换发与继续教育" * 10 for n in range(120))
    payload = '/inform{"person_name": "' + "查干湖" * 20 + '"}'
    assert len(payload.encode()) > 64
    await telegram_app.state.outbound.send(
        tg_user.conversation_id, [{"text": text, "buttons": [{"title": "就是我", "payload": payload}]}]
    )
    messages = fake.sent(tg_user.chat_id)
    assert len(messages) > 1 and all(len(m.fields["text"]) <= 4096 for m in messages)
    assert "\n".join(m.fields["text"] for m in messages) == text
    assert [bool(m.markup) for m in messages] == [False] * (len(messages) - 1) + [True]
    data = messages[-1].buttons[0]["callback_data"]
    assert len(data.encode()) <= 64
    tg_user.buttons = [{**b, "message_id": messages[-1].message_id} for b in messages[-1].buttons]
    await tg_user.press("就是我")
    assert (await user_events(backend, tg_user.conversation_id))[-1]["text"] == payload


async def test_the_largest_size_of_a_photo_goes_to_the_photo_check(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend
) -> None:
    content = photo("ok.jpg")
    await tg_user.send(tg_user.updates.photo(content))
    asked = [c.fields["file_id"] for c in fake.calls if c.method == "getFile"]
    assert len(asked) == 1 and not asked[0].endswith("-small")
    event = (await user_events(backend, tg_user.conversation_id))[-1]
    assert event["parse_data"]["intent"]["name"] == "send_photo"  # type: ignore[index]


async def test_a_photo_sent_as_a_file_is_checked_and_the_repaired_photo_comes_back_as_a_photo(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(tg_user.http, backend, tg_user.conversation_id)
    assert "照片" in await tg_user.say("/upload_photo")
    clock.advance(seconds=5)
    calls = await tg_user.send(tg_user.updates.document(photo("big.jpg"), "IMG_2041.JPG", "image/jpeg"))
    event = (await user_events(backend, tg_user.conversation_id))[-1]
    assert event["parse_data"]["intent"]["name"] == "send_photo"  # type: ignore[index]
    photos = [c for c in calls if c.method == "sendPhoto"]
    assert len(photos) == 1 and photos[0].files["photo"][1].startswith(b"\xff\xd8")
    assert any("确认提交" in b["text"] for b in tg_user.buttons)


async def test_what_the_assistant_cannot_read_gets_a_short_hint_and_no_turn(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend
) -> None:
    too_big = tg_user.updates.document(
        photo("ok.jpg"), "huge.jpg", "image/jpeg", reported_size=25 * 1024 * 1024
    )
    assert [c.fields["text"] for c in await tg_user.send(too_big)] == [TOO_BIG]
    pdf = tg_user.updates.document(b"%PDF-1.4 ...", "scan.pdf", "application/pdf")
    assert [c.fields["text"] for c in await tg_user.send(pdf)] == [NOT_IMAGE]
    for update in (tg_user.updates.sticker(), tg_user.updates.voice(), tg_user.updates.location()):
        assert [c.fields["text"] for c in await tg_user.send(update)] == [NOT_UNDERSTOOD]
    assert not [c for c in fake.calls if c.method == "getFile"]
    assert await user_events(backend, tg_user.conversation_id) == []
