"""A new trainee in Telegram, from /start to the e-certificate received as a file in the chat: every
step an update delivered to the webhook, every answer what the fake Bot API server received. The
PDF that arrives by sendDocument is rasterised and its QR code read the way a phone would, and the
page it points at confirms the certificate."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import latest_code, right_answers
from tests.conftest import FakeClock
from tests.documents.reading import page_status, pdf_text, qr_urls
from tests.learning.conftest import load_catalog, write_catalog
from tests.photos.synth import id_photo_jpeg
from tests.telegram.conftest import TelegramUser
from tests.telegram.fake_api import FakeTelegram

TIME_SCALE = 12.0  # one 5-second heartbeat credits a whole minute-long course


def link_in(text: str) -> str:
    found = re.search(r"https?://\S+", text)
    assert found, text
    return found.group(0)


@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
async def test_new_trainee_from_start_to_the_e_certificate_as_a_document(
    tg_user: TelegramUser, fake: FakeTelegram, backend: Backend, clock: FakeClock, tmp_path: Path
) -> None:
    await load_demo_data(backend)
    await load_catalog(backend, write_catalog(tmp_path / "catalog"))
    backend.settings = backend.settings.model_copy(update={"learning_time_scale": TIME_SCALE})
    me, http = tg_user, tg_user.http

    async def say(text: str) -> str:
        clock.advance(seconds=5)
        return await me.say(text)

    assert "建培助手" in await say("/start")
    assert "真实姓名" in await say("我要注册")
    assert "身份证号" in await say("查干湖")
    assert "手机号" in await say("220723197011030711")
    assert "6位数字" in await say("139 0000 0004")
    assert "继续教育平台的注册验证码" in await say(await latest_code(backend, "13900000004"))
    bound = await say(await latest_code(backend, "13900000004"))
    assert "绑定成功，查干湖" in bound

    assert "照片要求" in await say("我要上传照片")
    clock.advance(seconds=5)
    calls = await me.send(me.updates.photo(id_photo_jpeg()))  # a Telegram photo, largest size taken
    assert "不可修改" in "\n".join(str(c.fields.get("text") or c.fields.get("caption") or "") for c in calls)
    assert "照片已上传" in await me.press("确认提交")

    assert "选要报名" in await say("我要报名")
    assert "年度" in await me.press("220813")
    assert "推荐课程包" in await me.press(f"{clock().year}年度")
    assert "确认报名" in await me.press("技能人员")
    assert "报名成功" in await me.press("确认报名")

    learn = await me.send(me.updates.text("开始学习"))
    player_button = next(b for c in learn for b in c.buttons if "url" in b)
    ticket = parse_qs(urlparse(player_button["url"]).query)["ticket"][0]
    token = (await http.post("/api/learning/player-links/redeem", json={"ticket": ticket})).json()["token"]
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
    assert "100%" in await say("学习进度")

    await say("/menu")
    assert "第1题" in await me.press("参加考核")
    answers = await right_answers(backend)
    for answer in answers[:-1]:
        assert "题" in await say(answer)
    assert "考核通过" in await say(answers[-1])

    clock.advance(seconds=5)
    renewed = await me.send(me.updates.text("我要换证"))
    assert "电子培训合格证" in "\n".join(str(c.fields.get("text") or "") for c in renewed)
    documents = [c for c in renewed if c.method == "sendDocument"]
    assert len(documents) == 1, [c.method for c in renewed]
    filename, pdf = documents[0].files["document"]
    assert filename.endswith(".pdf") and pdf.startswith(b"%PDF")
    assert "查干湖" in pdf_text(pdf)

    [verify_url] = qr_urls(pdf)
    assert "/verify/" in verify_url
    page = await http.get(urlparse(verify_url).path)
    assert page.status_code == 200
    assert page_status(page.text) == "有效"
