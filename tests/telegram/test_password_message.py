"""改密码 in Telegram: the trainee's message that carried a password is deleted from his chat once the
turn has taken it — only that message — and the reply says so; a message Telegram will not delete
leaves the turn whole (the password is changed) and he is asked to delete it himself."""

from __future__ import annotations

import httpx

from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import DEMO_ID, DEMO_PHONE, bind_demo_trainee, register_demo_on_platform
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser
from tests.telegram.fake_api import FakeTelegram

NEW = "Changchun2026x"


async def bound(http: httpx.AsyncClient, backend: Backend, clock: FakeClock, user: TelegramUser) -> None:
    """古林前's Telegram chat, bound, with an account on both systems."""
    await load_demo_data(backend)
    await bind_demo_trainee(http, backend, user.conversation_id)
    clock.advance(seconds=61)
    await register_demo_on_platform(http, backend)


async def typed(user: TelegramUser, clock: FakeClock, text: str) -> tuple[int, str]:
    """The id of the trainee's message, and what the bot answered to it."""
    clock.advance(seconds=5)
    update = user.updates.text(text)
    calls = await user.send(update)
    return update["message"]["message_id"], "\n".join(str(c.fields.get("text") or "") for c in calls)


async def logs_in(http: httpx.AsyncClient, password: str) -> bool:
    answer = await http.post("/api/registry/sessions", json={"login": DEMO_ID, "password": password})
    return answer.status_code == 200


async def test_only_the_messages_that_carried_a_password_are_deleted(
    tg_http: httpx.AsyncClient, tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await bound(tg_http, backend, clock, tg_user)
    _asked, said = await typed(tg_user, clock, "我想改个密码")
    assert "8到32位" in said and "删除" not in said
    weak, said = await typed(tg_user, clock, "mima12")
    assert "再输一个" in said and "已删除您发的密码消息" in said  # refused, but a password all the same
    new, said = await typed(tg_user, clock, NEW)
    assert "都改好了" in said and said.rstrip().endswith("为了安全，已删除您发的密码消息。")
    _after, said = await typed(tg_user, clock, "查下我的证书")
    assert "删除" not in said

    assert fake.deleted(tg_user.chat_id) == [weak, new]
    assert all(c.status == 200 for c in fake.calls if c.method == "deleteMessage")
    assert not [text for text in fake.texts(tg_user.chat_id) if NEW in text]
    assert await logs_in(tg_http, NEW)


async def test_a_message_telegram_will_not_delete_leaves_the_turn_whole(
    tg_http: httpx.AsyncClient, tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock
) -> None:
    await bound(tg_http, backend, clock, tg_user)
    await typed(tg_user, clock, "改密码")
    clock.advance(seconds=5)
    update = tg_user.updates.text(NEW)
    message_id = update["message"]["message_id"]
    fake.forget(tg_user.chat_id, message_id)  # as if too old to delete: Telegram answers 400
    said = "\n".join(str(c.fields.get("text") or "") for c in await tg_user.send(update))

    assert "都改好了" in said and "请长按您刚发的密码消息" in said
    [refused] = [c for c in fake.calls if c.method == "deleteMessage"]
    assert refused.status == 400 and int(refused.fields["message_id"]) == message_id  # asked once
    assert await logs_in(tg_http, NEW) and not await logs_in(tg_http, DEMO_PHONE)
