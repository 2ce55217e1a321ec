"""Chat history never keeps what logs in: after a whole journey in chat (register in both systems,
upload the photo, enrol, bind a second chat by SMS code; an ID number, phone and code typed unasked), no
stored event and no log line holds the journey's ID number, phone or SMS codes in the clear."""

from __future__ import annotations

import base64
import json
import logging
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ConversationEvent, SmsMessage
from tests.assistant.stories import latest_code
from tests.conftest import FakeClock
from tests.learning.conftest import load_catalog, write_catalog
from tests.photos.synth import id_photo_jpeg

ID_NUMBER = "220723197011030711"
PHONE = "13900000004"
TYPED_PHONE = "139 0000 0004"


class Person:
    def __init__(self, http: httpx.AsyncClient, clock: FakeClock, sender: str) -> None:
        self.http = http
        self.clock = clock
        self.sender = sender
        self.buttons: list[dict[str, str]] = []

    async def say(self, text: str, **metadata: Any) -> str:
        self.clock.advance(seconds=5)
        body: dict[str, Any] = {"sender": self.sender, "message": text}
        if metadata:
            body["metadata"] = metadata
        answer = await self.http.post("/webhooks/rest/webhook", json=body)
        assert answer.status_code == 200, answer.text
        self.buttons = [b for a in answer.json() for b in a.get("buttons", [])]
        return "\n".join(a.get("text", "") for a in answer.json())

    async def press(self, title_part: str) -> str:
        button = next((b for b in self.buttons if title_part in b["title"]), None)
        assert button is not None, f"no button {title_part!r} in {self.buttons}"
        return await self.say(button["payload"])


def strings(data: Any) -> list[str]:
    """Every text in a stored event (numbers such as timestamps are not text a person typed)."""
    if isinstance(data, str):
        return [data, re.sub(r"[\s\-]", "", data)]
    if isinstance(data, dict):
        return [s for value in data.values() for s in strings(value)]
    if isinstance(data, list):
        return [s for value in data for s in strings(value)]
    return []


async def sms_codes(backend: Backend) -> list[str]:
    async with backend.sessions() as session:
        texts = (await session.scalars(select(SmsMessage.text).where(SmsMessage.phone == PHONE))).all()
    return [code for text in texts for code in re.findall(r"(?<!\d)\d{6}(?!\d)", text)]


async def test_a_journey_leaves_no_credential_in_history_or_logs(
    chat_http: httpx.AsyncClient,
    backend: Backend,
    clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO)
    await load_demo_data(backend)
    await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))
    me = Person(chat_http, clock, "web-journey-phone")
    assert "真实姓名" in await me.say("我要注册")
    assert "身份证号" in await me.say("查干湖")
    assert "手机号" in await me.say(ID_NUMBER)
    assert "6位数字" in await me.say(TYPED_PHONE)
    assert "继续教育平台的注册验证码" in await me.say(await latest_code(backend, PHONE))
    done = await me.say(await latest_code(backend, PHONE))
    assert "绑定成功，查干湖" in done

    assert "照片要求" in await me.say("我要上传照片")
    photo = base64.b64encode(id_photo_jpeg()).decode()
    assert "不可修改" in await me.say("", attachment={"filename": "me.jpg", "content_base64": photo})
    assert "照片已上传" in await me.press("确认提交")
    assert "选要报名" in await me.say("我要报名")
    assert "年度" in await me.press("220813")
    assert "推荐课程包" in await me.press(f"{clock().year}年度")
    assert "确认报名" in await me.press("技能人员")
    assert "报名成功" in await me.press("确认报名")

    clock.advance(seconds=61)  # the next code to this phone may be asked for
    desk = Person(chat_http, clock, "web-journey-desk")
    await desk.say(f"我的身份证是{ID_NUMBER}，手机{PHONE}")
    assert "手机号" in await desk.say("绑定已有账号")
    assert "139****0004" in await desk.say(PHONE)
    assert "验证码不对" in await desk.say("000000")
    code = await latest_code(backend, PHONE)
    bound = await desk.say(code)
    assert "要哪个证书" in bound or "绑定成功" in bound
    await desk.say(f"刚才的验证码是{code}")

    codes = await sms_codes(backend)
    assert len(codes) == 3, codes  # both systems' registration codes and the chat's binding code
    secrets = [ID_NUMBER, PHONE, *codes]
    async with backend.sessions() as session:
        rows = (await session.scalars(select(ConversationEvent.data))).all()
    assert len(rows) > 100
    for row in rows:
        for text in strings(json.loads(row)):
            found = [secret for secret in secrets if secret in text]
            assert not found, f"{found} in a stored event: {row}"
    logged = capsys.readouterr()
    log_text = "\n".join([logged.out, logged.err, caplog.text])
    assert not [secret for secret in secrets if secret in log_text]
    # the details crossed turns sealed, and the seals went when each chat was bound
    async with backend.sessions() as session:
        events = [
            (sender, json.loads(data))
            for sender, data in await session.execute(
                select(ConversationEvent.sender_id, ConversationEvent.data).order_by(ConversationEvent.id)
            )
        ]
    seals = [(s, e.get("value")) for s, e in events if e.get("event") == "slot" and e["name"] == "reg_sealed"]
    assert any(value for _sender, value in seals)
    last = {sender: value for sender, value in seals}
    assert last and all(value is None for value in last.values()), last
