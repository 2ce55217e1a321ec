"""A trainee who leaves while his hand-off waits for staff or is held by them — he blocks the bot in
Telegram, unfollows the WeChat account — no longer keeps staff waiting: the hand-off ends as staff
end it (an audit row with no staff member), the console and the staff topic say why, nothing is sent
to him, and when he comes back he meets the assistant. A chat with no hand-off changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.handoff.accounts import StaffAccounts
from nlu import Interpreter
from services.context import Backend
from storage.models import Conversation, Handoff, StaffAudit
from tests.telegram.conftest import TelegramUser, telegram_settings
from tests.telegram.fake_api import FakeTelegram
from tests.wechat.conftest import Follower, shown
from tests.wechat.fake_api import APP_ID, APP_SECRET, FakeWechat, WechatServer
from tests.wechat.fake_api import TOKEN as WECHAT_TOKEN

STAFF_CHAT = -1001234567890
OPENID = "oJianpei0000000000000000001"
PASSWORD = "desk-password-1"


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def wx() -> AsyncIterator[FakeWechat]:
    server = FakeWechat()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def app(
    backend: Backend, interpreter: Interpreter, tg: FakeTelegram, wx: FakeWechat
) -> AsyncIterator[FastAPI]:
    """Telegram with a staff supergroup, and WeChat, in one app."""
    settings = telegram_settings(
        tg,
        telegram_staff_chat=str(STAFF_CHAT),
        wechat_app_id=APP_ID,
        wechat_app_secret=APP_SECRET,
        wechat_token=WECHAT_TOKEN,
        wechat_api_base=wx.base,
    )
    app = create_assistant_app(backend, settings, interpreter)
    yield app
    await app.state.telegram.stop()
    await app.state.wechat.stop()


@pytest.fixture
async def http(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://jianpei.test") as http:
        yield http


@pytest.fixture
def trainee(http: httpx.AsyncClient, tg: FakeTelegram, app: FastAPI) -> TelegramUser:
    return TelegramUser(http, tg, app.state.telegram, 5001)


@pytest.fixture
def follower(http: httpx.AsyncClient, wx: FakeWechat, app: FastAPI) -> Follower:
    return Follower(WechatServer(http, OPENID), wx, app.state.wechat)


async def console(app: FastAPI, backend: Backend, login: str, role: str) -> httpx.AsyncClient:
    """A logged-in staff console of its own (its own cookie jar); closed by the caller."""
    await StaffAccounts(backend.engine).add(
        login=login, name=login.upper(), role=role, password=PASSWORD, now=backend.now()
    )
    staff = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://jianpei.test")
    logged = await staff.post("/staff/api/login", json={"login": login, "password": PASSWORD})
    assert logged.status_code == 200, logged.text
    return staff


def topic_posts(tg: FakeTelegram) -> list[str]:
    return [str(c.fields.get("text")) for c in tg.sent(STAFF_CHAT) if c.method == "sendMessage"]


async def handoff_of(backend: Backend, sender_id: str) -> int:
    async with backend.sessions() as session:
        handoff_id = await session.scalar(select(Handoff.id).where(Handoff.sender_id == sender_id))
    assert handoff_id is not None
    return handoff_id


async def audit(backend: Backend) -> list[tuple[str, int | None, str]]:
    async with backend.sessions() as session:
        rows = await session.execute(
            select(StaffAudit.action, StaffAudit.staff_id, StaffAudit.detail)
            .where(StaffAudit.handoff_id.is_not(None))
            .order_by(StaffAudit.id)
        )
    return [tuple(row) for row in rows]


async def test_blocking_the_bot_while_waiting_ends_the_hand_off_without_a_word_to_him(
    app: FastAPI, backend: Backend, tg: FakeTelegram, trainee: TelegramUser
) -> None:
    assert "您排在第一位" in await trainee.say("转人工")
    handoff_id = await handoff_of(backend, trainee.conversation_id)
    await app.state.topics.sync()
    assert topic_posts(tg)[0].startswith(f"转人工 #{handoff_id}")

    before = len(tg.calls)
    await trainee.send(trainee.updates.blocked())
    await app.state.topics.sync()
    assert [c for c in tg.calls[before:] if c.chat_id == str(trainee.chat_id)] == []  # not even tried
    assert topic_posts(tg)[-1] == "对话已结束：学员已屏蔽机器人，对话自动结束。"
    assert any(c.method == "closeForumTopic" for c in tg.calls[before:])

    staff = await console(app, backend, "zhang", "supervisor")
    try:
        assert (await staff.get("/staff/api/queue")).json() == []
        detail = (await staff.get(f"/staff/api/handoffs/{handoff_id}")).json()
    finally:
        await staff.aclose()
    assert detail["status"] == "closed" and detail["note"] == "学员已屏蔽机器人，对话自动结束"
    assert await audit(backend) == [("close", None, "学员已屏蔽机器人，对话自动结束")]

    assert "真实姓名" in await trainee.say("我要注册")  # back: the assistant has the chat


async def test_unfollowing_while_staff_hold_the_chat_ends_it_for_them_too(
    app: FastAPI, backend: Backend, tg: FakeTelegram, wx: FakeWechat, follower: Follower
) -> None:
    assert "您排在第一位" in await follower.say("转人工")
    handoff_id = await handoff_of(backend, follower.conversation_id)
    staff = await console(app, backend, "li", "agent")
    try:
        assert (await staff.post(f"/staff/api/handoffs/{handoff_id}/claim")).status_code == 200
        replied = await staff.post(f"/staff/api/handoffs/{handoff_id}/reply", json={"text": "您好"})
        assert replied.status_code == 200
        assert wx.texts(OPENID)[-1].startswith("【人工客服】您好")
        await app.state.topics.sync()

        before = len(wx.sent(OPENID))
        assert await follower.send(follower.server.event("unsubscribe")) == []
        assert len(wx.sent(OPENID)) == before
        detail = (await staff.get(f"/staff/api/handoffs/{handoff_id}")).json()
        assert detail["status"] == "closed" and detail["note"] == "学员已取消关注公众号，对话自动结束"
        again = await staff.post(f"/staff/api/handoffs/{handoff_id}/reply", json={"text": "还在吗"})
        assert again.status_code == 409  # nobody to write to
    finally:
        await staff.aclose()
    assert len(wx.sent(OPENID)) == before
    await app.state.topics.sync()
    assert topic_posts(tg)[-1] == "对话已结束：学员已取消关注公众号，对话自动结束。"
    actions = [(action, by is None) for action, by, _detail in await audit(backend)]
    assert actions == [("claim", False), ("reply", False), ("close", True)]

    assert "建培助手" in shown(await follower.send(follower.server.event("subscribe")))
    assert "真实姓名" in await follower.say("我要注册")


async def test_a_trainee_found_blocked_when_staff_answer_ends_the_hand_off_the_same_way(
    app: FastAPI, backend: Backend, tg: FakeTelegram, trainee: TelegramUser
) -> None:
    """Telegram did not tell us he blocked the bot; the staff answer's 403 does."""
    assert "您排在第一位" in await trainee.say("转人工")
    handoff_id = await handoff_of(backend, trainee.conversation_id)
    await app.state.topics.sync()
    staff = await console(app, backend, "wang", "agent")
    try:
        assert (await staff.post(f"/staff/api/handoffs/{handoff_id}/claim")).status_code == 200
        tg.fail("sendMessage", 403)
        replied = await staff.post(f"/staff/api/handoffs/{handoff_id}/reply", json={"text": "您好"})
        assert replied.status_code == 410
        assert replied.json()["error"]["message"] == "学员已屏蔽机器人，对话自动结束，回复没有送达"
        detail = (await staff.get(f"/staff/api/handoffs/{handoff_id}")).json()
    finally:
        await staff.aclose()
    assert detail["status"] == "closed" and detail["note"] == "学员已屏蔽机器人，对话自动结束"
    actions = [(action, by is None) for action, by, _detail in await audit(backend)]
    assert actions == [("claim", False), ("reply_failed", False), ("close", True)]
    await app.state.topics.sync()
    assert topic_posts(tg)[-1] == "对话已结束：学员已屏蔽机器人，对话自动结束。"


async def test_leaving_without_a_hand_off_changes_nothing(
    app: FastAPI,
    backend: Backend,
    http: httpx.AsyncClient,
    tg: FakeTelegram,
    trainee: TelegramUser,
    follower: Follower,
) -> None:
    """Another trainee's hand-off stays in the queue; the leavers' conversations stay as they were."""
    assert "真实姓名" in await trainee.say("我要注册")
    assert "建培助手" in shown(await follower.send(follower.server.event("subscribe")))
    other = TelegramUser(http, tg, app.state.telegram, 5002)
    assert "您排在第一位" in await other.say("转人工")

    async def state() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        async with backend.sessions() as session:
            handoffs = (await session.execute(select(Handoff.sender_id, Handoff.status))).all()
            conversations = (
                await session.execute(
                    select(Conversation.sender_id, Conversation.status).order_by(Conversation.sender_id)
                )
            ).all()
        return [tuple(r) for r in handoffs], [tuple(r) for r in conversations]

    before = await state()
    assert before[0] == [(other.conversation_id, "waiting")]
    await trainee.send(trainee.updates.blocked())
    await follower.send(follower.server.event("unsubscribe"))
    assert await state() == before
    assert await audit(backend) == []
