"""The staff console over real HTTP: nothing answers without a login, a login locks after repeated
wrong passwords, an agent sees only the queue and his own conversations, two claims at once have
one winner, staff read trainees' ID numbers and phones only masked, and a reply reaches the
trainee's chat while closing gives the chat back to the assistant."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.handoff.accounts import StaffAccounts
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import Handoff, StaffAudit
from tests.assistant.conftest import Chat
from tests.assistant.stories import DEMO_ID, DEMO_PHONE, bind_demo_trainee
from tests.conftest import FakeClock

PASSWORD = "desk-password-1"
FULL_ID = re.compile(r"[0-9]{17}[0-9X]")
FULL_PHONE = re.compile(r"1[3-9][0-9]{9}")


@dataclass
class Desk:
    app: FastAPI
    backend: Backend
    clients: list[httpx.AsyncClient] = field(default_factory=list)

    def client(self) -> httpx.AsyncClient:
        """A browser of its own: its own cookie jar."""
        http = httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app), base_url="http://jianpei.test")
        self.clients.append(http)
        return http

    async def staff(self, login: str, role: str = "agent") -> httpx.AsyncClient:
        """A logged-in console of a new staff member."""
        await StaffAccounts(self.backend.engine).add(
            login=login, name=login.upper(), role=role, password=PASSWORD, now=self.backend.now()
        )
        http = self.client()
        logged = await http.post("/staff/api/login", json={"login": login, "password": PASSWORD})
        assert logged.status_code == 200, logged.text
        return http


@pytest.fixture
async def desk(backend: Backend, interpreter: Interpreter) -> AsyncIterator[Desk]:
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    desk = Desk(app, backend)
    yield desk
    for http in desk.clients:
        await http.aclose()


async def handed_off(desk: Desk, sender: str) -> tuple[Chat, int]:
    """A web-chat trainee who asked for a person; the number of his hand-off."""
    chat = Chat(desk.client(), sender)
    assert "您排在" in await chat.text("转人工")
    async with desk.backend.sessions() as session:
        handoff_id = await session.scalar(select(Handoff.id).where(Handoff.sender_id == chat.conversation_id))
    assert handoff_id is not None
    return chat, handoff_id


async def test_no_console_route_answers_without_login(desk: Desk) -> None:
    included = [getattr(r, "original_router", None) for r in desk.app.routes]  # FastAPI 0.16x keeps them
    every = desk.app.routes + [route for router in included if router is not None for route in router.routes]
    routes = [
        (method, route.path.replace("{handoff_id}", "1").replace("{message_id}", "1"))
        for route in every
        if isinstance(route, APIRoute) and route.path.startswith("/staff/api/")
        for method in route.methods
        if route.path != "/staff/api/login"
    ]
    assert len(routes) >= 11
    anonymous, forged = desk.client(), desk.client()
    forged.cookies.set("jianpei_staff", "made-up-token", domain="jianpei.test", path="/staff")
    for method, path in routes:
        for http in (anonymous, forged):
            answer = await http.request(method, path, json={"text": "x", "note": "x", "staff_id": 1})
            assert answer.status_code == 401, (method, path, answer.text)
            assert answer.json()["error"]["message"] == "请先登录"


async def test_a_login_locks_after_five_wrong_passwords(desk: Desk) -> None:
    await StaffAccounts(desk.backend.engine).add(
        login="li", name="李", role="agent", password=PASSWORD, now=desk.backend.now()
    )
    http = desk.client()
    tries = await asyncio.gather(
        *(http.post("/staff/api/login", json={"login": "li", "password": "wrong"}) for _ in range(6))
    )
    assert sorted(t.status_code for t in tries).count(401) == 4, [t.text for t in tries]
    right = await http.post("/staff/api/login", json={"login": "li", "password": PASSWORD})
    assert right.status_code == 423
    assert "锁定" in right.json()["error"]["message"]
    assert (await http.get("/staff/api/queue")).status_code == 401
    async with desk.backend.sessions() as session:
        refused = list(
            await session.scalars(select(StaffAudit.action).where(StaffAudit.action == "login_refused"))
        )
    assert len(refused) >= 5


async def test_an_agent_cannot_open_another_agents_conversation(desk: Desk) -> None:
    _chat, handoff_id = await handed_off(desk, "web-agent-test")
    zhang, zhao, boss = (
        await desk.staff("zhang"),
        await desk.staff("zhao"),
        await desk.staff("boss", "supervisor"),
    )
    assert [item["id"] for item in (await zhao.get("/staff/api/queue")).json()] == [handoff_id]
    assert (await zhang.post(f"/staff/api/handoffs/{handoff_id}/claim")).status_code == 200
    assert (await zhao.get("/staff/api/queue")).json() == []
    path = f"/staff/api/handoffs/{handoff_id}"
    refused = [
        await zhao.get(path),
        await zhao.post(f"{path}/reply", json={"text": "我来"}),
        await zhao.post(f"{path}/close", json={"note": "抢一下"}),
        await zhao.post(f"{path}/assign", json={"staff_id": 2}),
        await zhao.get(f"{path}/photos/1"),
    ]
    assert [r.status_code for r in refused] == [403] * 5
    assert refused[0].json()["error"]["message"] == "这个对话不在您名下"
    seen = await boss.get(path)
    assert seen.status_code == 200 and seen.json()["status"] == "assigned"
    assert [item["id"] for item in (await boss.get("/staff/api/queue")).json()] == [handoff_id]


async def test_two_claims_at_once_have_one_winner(desk: Desk) -> None:
    _chat, handoff_id = await handed_off(desk, "web-claim-test")
    first, second = await desk.staff("a1"), await desk.staff("a2")
    answers = await asyncio.gather(
        first.post(f"/staff/api/handoffs/{handoff_id}/claim"),
        second.post(f"/staff/api/handoffs/{handoff_id}/claim"),
    )
    assert sorted(a.status_code for a in answers) == [200, 409]
    loser = next(a for a in answers if a.status_code == 409)
    assert loser.json()["error"]["message"] == "这个对话已经被同事接走了"
    async with desk.backend.sessions() as session:
        claims = list(await session.scalars(select(StaffAudit.staff_id).where(StaffAudit.action == "claim")))
        handoff = await session.get(Handoff, handoff_id)
    assert handoff is not None and handoff.status == "assigned"
    assert claims == [handoff.assigned_to]


async def test_transcript_and_profile_never_show_a_full_id_number_or_phone(desk: Desk) -> None:
    await load_demo_data(desk.backend)
    chat = Chat(desk.client(), "web-masking-test")
    await bind_demo_trainee(desk.client(), desk.backend, chat.conversation_id)
    await chat.say(f"我的身份证 {DEMO_ID} 登不上")
    assert "您排在" in await chat.text("转人工")
    spaced_phone = f"{DEMO_PHONE[:3]} {DEMO_PHONE[3:7]} {DEMO_PHONE[7:]}"
    await chat.say(f"手机 {spaced_phone}，身份证 {DEMO_ID.lower()}")
    async with desk.backend.sessions() as session:
        handoff_id = await session.scalar(select(Handoff.id))
    staff = await desk.staff("mask", "supervisor")
    queue = await staff.get("/staff/api/queue")
    detail = await staff.get(f"/staff/api/handoffs/{handoff_id}")
    assert detail.status_code == 200
    for answer in (queue, detail):
        shown = answer.text.replace(" ", "").replace("-", "")
        assert not FULL_ID.search(shown), shown
        assert not FULL_PHONE.search(shown), shown
    body = detail.json()
    trainee = [line["text"] for line in body["lines"] if line["by"] == "trainee"]
    assert any("220102********0319" in text for text in trainee)  # typed before the hand-off
    assert any("139****0001" in text and "220102********0319" in text for text in trainee)  # during
    profile = "\n".join(body["profile"])
    assert "古林前" in profile and "220102********0319" in profile and "139****0001" in profile


async def test_a_reply_reaches_the_chat_and_closing_gives_it_back(desk: Desk) -> None:
    chat, handoff_id = await handed_off(desk, "web-reply-test")
    assert "您排在第一位" in await chat.text("证书查不到")
    staff = await desk.staff("qian")
    path = f"/staff/api/handoffs/{handoff_id}"
    too_early = await staff.post(f"{path}/reply", json={"text": "您好"})
    assert too_early.status_code == 409
    assert (await staff.post(f"{path}/claim")).status_code == 200
    assert await chat.say("还在吗") == []  # a person has it now: no queue notice
    assert (await staff.post(f"{path}/reply", json={"text": "您好，我来查"})).status_code == 200
    lines = [(line["by"], line["text"]) for line in (await staff.get(path)).json()["lines"]]
    assert lines[-3:] == [("trainee", "证书查不到"), ("trainee", "还在吗"), ("staff", "您好，我来查")]
    assert (await staff.post(f"{path}/close", json={"note": "已解答"})).status_code == 200
    assert (await staff.post(f"{path}/close", json={"note": "再关"})).status_code == 409
    history = await chat.http.post("/webhooks/rest/history", json={"sender": chat.sender})
    pushed = [line["text"] for line in history.json()["lines"] if line.get("push_id")]
    assert pushed == [
        "【人工客服】您好，我来查",
        "人工客服已结束本次服务，接下来由建培助手继续为您服务。有事直接说，或点“看看菜单”。",
    ]
    assert "真实姓名" in await chat.text("我要注册")  # the assistant has the chat again
    async with desk.backend.sessions() as session:
        actions = list(await session.scalars(select(StaffAudit.action).order_by(StaffAudit.id)))
        handoff = await session.get(Handoff, handoff_id)
    assert actions == ["login", "claim", "reply", "close"]
    assert handoff is not None and handoff.status == "closed" and handoff.note == "已解答"


async def test_out_of_hours_the_trainee_is_told_when_staff_are_back(desk: Desk, clock: FakeClock) -> None:
    clock.advance(hours=3)  # Monday 20:00 in China
    chat = Chat(desk.client(), "web-evening")
    said = await chat.text("转人工")
    assert "下班时间" in said and "明天 08:30" in said and "4009999355" in said
    clock.advance(days=4)  # Saturday 20:00: back on Monday
    assert "3月9日（周一）08:30" in await chat.text("有人吗")
