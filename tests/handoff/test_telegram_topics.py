"""Hand-off through Telegram forum topics, against the fake Bot API: a trainee asks for a person in
his private chat, a topic opens in the staff supergroup with a masked card, staff take it there and
write, the trainee gets the words without a staff name, a burst of his lines arrives summarised,
/reply sends a canned reply, /close gives the chat back to the assistant, and a deleted topic is
opened again."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.handoff.telegram_topics import GroupPace, TelegramTopics
from nlu import Interpreter
from services.context import Backend
from storage.models import Handoff, HandoffTopic, StaffAudit
from tests.conftest import FakeClock
from tests.telegram.conftest import TelegramUser, fake, telegram_settings
from tests.telegram.fake_api import FakeTelegram

__all__ = ["fake"]

STAFF_CHAT = -1001234567890
FULL_PHONE = re.compile(r"1[3-9][0-9]{9}")


class StaffGroup:
    """Staff members writing in the forum topics of the staff supergroup."""

    def __init__(self, user: TelegramUser, topics: TelegramTopics) -> None:
        self.user = user
        self.fake = user.fake
        self.topics = topics
        self._ids = itertools.count(1)

    def posts(self, thread_id: int | None = None) -> list[str]:
        return [
            str(c.fields.get("text"))
            for c in self.fake.sent(STAFF_CHAT)
            if c.method == "sendMessage"
            and (thread_id is None or int(c.fields.get("message_thread_id") or 0) == thread_id)
        ]

    def threads(self) -> list[int]:
        return [thread for (chat, thread) in self.fake.topics if chat == str(STAFF_CHAT)]

    async def write(self, thread_id: int, text: str, *, staff_id: int = 901, name: str = "王") -> None:
        update: dict[str, Any] = {
            "update_id": self.fake.next_update_id(),
            "message": {
                "message_id": next(self._ids),
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "date": int(time.time()),
                "chat": {"id": STAFF_CHAT, "type": "supergroup", "title": "客服组", "is_forum": True},
                "from": {"id": staff_id, "is_bot": False, "first_name": name},
                "text": text,
            },
        }
        response = await self.user.deliver(update)
        assert response.status_code == 200, response.text
        await self.user.channel.idle()


@pytest.fixture
async def staff_app(backend: Backend, interpreter: Interpreter, fake: FakeTelegram) -> AsyncIterator[FastAPI]:
    settings = telegram_settings(fake, telegram_staff_chat=str(STAFF_CHAT))
    app = create_assistant_app(backend, settings, interpreter)
    yield app
    await app.state.telegram.stop()


@pytest.fixture
async def group(staff_app: FastAPI, fake: FakeTelegram) -> AsyncIterator[StaffGroup]:
    transport = httpx.ASGITransport(app=staff_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jianpei.test") as http:
        trainee = TelegramUser(http, fake, staff_app.state.telegram, 5001)
        yield StaffGroup(trainee, staff_app.state.topics)


async def test_a_hand_off_is_worked_in_a_forum_topic(group: StaffGroup, backend: Backend) -> None:
    trainee, fake = group.user, group.fake
    await trainee.say("我手机13900000001收不到验证码")
    assert "您排在第一位" in await trainee.say("转人工")
    await group.topics.sync()
    [thread] = group.threads()
    [card] = group.posts(thread)
    assert "转人工 #" in card and "Telegram" in card and "/take" in card
    assert "139****0001" in card and not FULL_PHONE.search(card)

    await group.write(thread, "您好")  # not taken yet: staff are told how
    assert group.posts(thread)[-1].startswith("请先接入这个对话")
    assert not any("您好" in text for text in fake.texts(5001))
    await group.write(thread, "/take")
    assert "王 已接入" in group.posts(thread)[-1]
    await group.write(thread, "您好，我来帮您查")
    assert fake.texts(5001)[-1] == "【人工客服】您好，我来帮您查"  # no staff name

    for line in ("在吗", "验证码还是没收到", "手机号是13900000001"):
        assert await trainee.say(line) == ""  # a person has the chat: no queue notice
    await group.topics.sync()
    burst = group.posts(thread)[-1]
    assert burst.startswith("学员发来3条") and "验证码还是没收到" in burst and "139****0001" in burst

    await group.write(thread, "/reply wait")
    assert fake.texts(5001)[-1] == "【人工客服】好的，我查一下，请稍等一两分钟。"
    await group.write(thread, "/close 已重新发送验证码")
    assert "人工客服已结束本次服务" in fake.texts(5001)[-1]
    assert group.posts(thread)[-1].startswith("对话已结束：已重新发送验证码")
    assert any(c.method == "closeForumTopic" for c in fake.calls)
    assert "真实姓名" in await trainee.say("我要注册")  # the assistant has the chat again

    async with backend.sessions() as session:
        handoff = await session.scalar(select(Handoff))
        actions = list(await session.scalars(select(StaffAudit.action).order_by(StaffAudit.id)))
    assert handoff is not None and handoff.status == "closed" and handoff.note == "已重新发送验证码"
    assert actions == ["claim", "reply", "reply", "close"]


async def test_a_deleted_topic_is_opened_again_with_its_card(group: StaffGroup) -> None:
    trainee, fake = group.user, group.fake
    assert "您排在第一位" in await trainee.say("转人工")
    await group.topics.sync()
    [first] = group.threads()
    fake.delete_topic(STAFF_CHAT, first)
    await trainee.say("有人吗")
    await group.topics.sync()
    second = next(thread for thread in group.threads() if thread != first)
    posts = group.posts(second)
    assert posts[0].startswith("转人工 #") and posts[-1] == "学员：有人吗"
    await group.write(second, "/take")
    await group.write(second, "在的")
    assert fake.texts(5001)[-1] == "【人工客服】在的"


async def test_the_group_never_gets_more_than_its_share_of_messages(
    group: StaffGroup, backend: Backend
) -> None:
    """Five trainees asking at once: five topics and five cards. With the group's share shortened to
    four messages in 0.3 s, no four calls after the first come sooner than that after it (a lower
    bound: a slow machine only widens the gaps)."""
    topics = TelegramTopics(
        backend.engine,
        group.topics.desk,
        group.topics.sender,
        chat_id=str(STAFF_CHAT),
        clock=backend.now,
        pace=GroupPace(limit=4, window=0.3),
    )
    http, fake, channel = group.user.http, group.fake, group.user.channel
    for chat_id in range(6001, 6006):
        assert "请稍候" in await TelegramUser(http, fake, channel, chat_id).say("转人工")
    await topics.sync()
    calls = [c for c in fake.calls if c.chat_id == str(STAFF_CHAT)]
    assert [c.method for c in calls] == ["createForumTopic", "sendMessage"] * 5
    assert all(fifth.at - first.at >= 0.3 - 0.05 for first, fifth in zip(calls, calls[4:], strict=False))


async def test_an_opening_cut_off_is_taken_up_again(
    group: StaffGroup, backend: Backend, clock: FakeClock
) -> None:
    """A worker that died between claiming a hand-off's topic and opening it leaves a row without a
    thread: after two minutes the next sync opens the topic, once."""
    assert "您排在第一位" in await group.user.say("转人工")
    async with backend.sessions() as session, session.begin():
        handoff_id = await session.scalar(select(Handoff.id))
        assert handoff_id is not None
        session.add(
            HandoffTopic(handoff_id=handoff_id, chat_id=str(STAFF_CHAT), shown_until=0, created_at=clock())
        )
    await group.topics.sync()
    assert group.threads() == []  # still within the dead worker's lease
    clock.advance(minutes=3)
    await group.topics.sync()
    await group.topics.sync()
    [thread] = group.threads()
    assert group.posts(thread)[0].startswith(f"转人工 #{handoff_id}")


async def test_the_trainees_photo_reaches_the_topic(group: StaffGroup) -> None:
    trainee, fake = group.user, group.fake
    assert "您排在第一位" in await trainee.say("转人工")
    await group.topics.sync()
    [thread] = group.threads()
    picture = b"\xff\xd8\xff\xe0" + b"a photo of a certificate" * 40
    await trainee.send(trainee.updates.photo(picture))
    await group.topics.sync()
    assert group.posts(thread)[-1] == "学员：［照片］"
    [photo] = [c for c in fake.sent(STAFF_CHAT) if c.method == "sendPhoto"]
    assert int(photo.fields["message_thread_id"]) == thread
    assert photo.files["photo"][1] == picture


async def test_a_colleague_cannot_answer_in_a_topic_another_took(group: StaffGroup) -> None:
    trainee, fake = group.user, group.fake
    assert "您排在第一位" in await trainee.say("转人工")
    await group.topics.sync()
    [thread] = group.threads()
    await group.write(thread, "/take", staff_id=901, name="王")
    await group.write(thread, "/take", staff_id=902, name="赵")
    assert group.posts(thread)[-1] == "这个对话已经被同事接走了"
    await group.write(thread, "我来回答", staff_id=902, name="赵")
    assert group.posts(thread)[-1] == "这个对话不在您名下"
    await group.write(thread, "/close 抢一下", staff_id=902, name="赵")
    assert group.posts(thread)[-1] == "这个对话不在您名下"
    assert not any("我来回答" in text or "已结束" in text for text in fake.texts(5001))


async def test_the_running_desk_opens_the_topic_when_a_trainee_asks(group: StaffGroup) -> None:
    """Started as `jianpei serve` starts it: woken by the hand-off itself, no sync called by hand."""
    group.topics.start(every=60)
    try:
        assert "您排在第一位" in await group.user.say("转人工")
        await group.fake.wait_for(lambda: any(c.method == "sendMessage" for c in group.fake.sent(STAFF_CHAT)))
    finally:
        await group.topics.stop()
    [thread] = group.threads()
    assert group.posts(thread)[0].startswith("转人工 #")
