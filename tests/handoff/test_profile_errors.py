"""The staff profile ends with the trainee's last errors: what he said that the assistant refused or
did not understand, and what it answered — masked, the turns that went well left out."""

from __future__ import annotations

import re

from sqlalchemy import select

from storage.models import Handoff
from tests.assistant.conftest import Chat
from tests.assistant.stories import DEMO_ID
from tests.handoff.test_console import Desk, desk

__all__ = ["desk"]

FULL_ID = re.compile(r"[0-9]{17}[0-9X]")


async def test_the_profile_shows_the_last_refused_answers_masked(desk: Desk) -> None:
    chat = Chat(desk.client(), "web-errors")
    assert "真实姓名" in await chat.text("我要注册")
    assert "身份证" in await chat.text("张三")
    wrong_check = DEMO_ID[:-1] + ("0" if DEMO_ID[-1] != "0" else "1")
    refused = await chat.text(wrong_check)
    assert "身份证" in refused
    await chat.text("12345")
    assert "您排在" in await chat.text("人工")
    async with desk.backend.sessions() as session:
        handoff_id = await session.scalar(select(Handoff.id))
    staff = await desk.staff("errors", "supervisor")
    detail = await staff.get(f"/staff/api/handoffs/{handoff_id}")
    errors = [line for line in detail.json()["profile"] if line.startswith("最近出错")]
    assert len(errors) == 2, errors
    assert all("学员：“" in line and "助手：“身份证" in line for line in errors)
    assert "应为18位" in errors[1]  # newest last
    assert not any("张三" in line for line in errors)  # the name was taken: no error
    assert not FULL_ID.search(detail.text)
