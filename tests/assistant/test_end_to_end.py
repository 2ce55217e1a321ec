"""A new trainee, over real HTTP, from 你好 to a downloaded e-certificate PDF.

`jianpei serve`'s app runs under uvicorn on 127.0.0.1; the trainee types and presses buttons through
the REST channel, reads the SMS code from the outbox, learns through the player API (test time
scale), sits the assessment in chat and fetches the PDF from the link the assistant hands out."""

from __future__ import annotations

import asyncio
import base64
import re
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import pytest
import uvicorn

from bot.app import create_assistant_app
from bot.settings import AssistantSettings
from nlu import Interpreter
from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import latest_code, right_answers
from tests.conftest import FakeClock
from tests.learning.conftest import load_catalog, write_catalog
from tests.photos.synth import id_photo_jpeg

TIME_SCALE = 12.0  # one 5-second heartbeat credits a whole minute-long course


@asynccontextmanager
async def uvicorn_serving(app: Any) -> AsyncIterator[str]:
    """The app under uvicorn on 127.0.0.1, in this event loop. The socket listens before uvicorn
    starts, so the first request simply waits in the backlog."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def served(backend: Backend, interpreter: Interpreter) -> AsyncIterator[str]:
    """`jianpei serve`'s app on real HTTP; the links it hands out point at it."""
    app = create_assistant_app(backend, AssistantSettings(_env_file=None), interpreter)  # type: ignore[call-arg]
    async with uvicorn_serving(app) as base:
        backend.settings = backend.settings.model_copy(
            update={"public_url": base, "learning_time_scale": TIME_SCALE}
        )
        yield base


class Trainee:
    def __init__(self, http: httpx.AsyncClient, clock: FakeClock) -> None:
        self.http = http
        self.clock = clock
        self.buttons: list[dict[str, str]] = []

    async def say(self, text: str, **metadata: Any) -> str:
        self.clock.advance(seconds=5)
        body: dict[str, Any] = {"sender": "web-new-trainee", "message": text}
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


def link_in(text: str) -> str:
    found = re.search(r"https?://\S+", text)
    assert found, text
    return found.group(0)


async def test_new_trainee_from_hello_to_e_certificate(
    served: str, backend: Backend, clock: FakeClock, tmp_path: Path
) -> None:
    await load_demo_data(backend)
    await load_catalog(backend, write_catalog(tmp_path / "catalog"))
    async with httpx.AsyncClient(base_url=served, timeout=60) as http:
        me = Trainee(http, clock)
        assert "建培助手" in await me.say("你好")
        assert "真实姓名" in await me.say("我要注册")
        assert "身份证号" in await me.say("查干湖")
        assert "手机号" in await me.say("220723197011030711")
        assert "6位数字" in await me.say("139 0000 0004")
        assert "继续教育平台的注册验证码" in await me.say(await latest_code(backend, "13900000004"))
        done = await me.say(await latest_code(backend, "13900000004"))
        assert "绑定成功，查干湖" in done and "高强度密码" in done

        assert "照片要求" in await me.say("我要上传照片")
        photo = base64.b64encode(id_photo_jpeg()).decode()
        assert "不可修改" in await me.say("", attachment={"filename": "me.jpg", "content_base64": photo})
        assert "照片已上传" in await me.press("确认提交")

        assert "选要报名" in await me.say("我要报名")
        assert "年度" in await me.press("220813")
        assert "推荐课程包" in await me.press(f"{clock().year}年度")
        assert "确认报名" in await me.press("技能人员")
        assert "报名成功" in await me.press("确认报名")

        ticket = parse_qs(urlparse(link_in(await me.say("开始学习"))).query)["ticket"][0]
        token = (await http.post("/api/learning/player-links/redeem", json={"ticket": ticket})).json()[
            "token"
        ]
        player = {"Authorization": f"Bearer {token}"}
        order = (await http.get("/api/learning/enrolments", headers=player)).json()[0]
        for course in order["courses"]:
            watch = await http.post(
                f"/api/learning/enrolments/{order['id']}/courses/{course['seq']}/watch", headers=player
            )
            clock.advance(seconds=5)
            beat = await http.post(
                f"/api/learning/watch/{watch.json()['session_id']}/heartbeats",
                json={"seq": 1, "position": course["duration_seconds"], "rate": TIME_SCALE},
                headers=player,
            )
            assert beat.json()["course_completed"], beat.text
        assert "100%" in await me.say("学习进度")

        await me.say("/menu")
        assert "第1题" in await me.press("参加考核")
        answers = await right_answers(backend)
        for answer in answers[:-1]:
            assert "题" in await me.say(answer)
        assert "考核通过" in await me.say(answers[-1])

        document = await me.say("我要换证")
        assert "电子培训合格证" in document and "查看/下载" in document
        pdf = await http.get(link_in(document))
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
