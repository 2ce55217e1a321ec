"""Bad input over the REST channel: a clear Chinese answer, the chat still usable, nothing stored
that should not be."""

from __future__ import annotations

import asyncio
import base64
import json

import httpx
import pytest
from sqlalchemy import func, select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ChatBinding, ConversationEvent, Photo
from tests.assistant.conftest import Chat
from tests.assistant.stories import bind_demo_trainee, photo
from tests.conftest import FakeClock


async def stored_events(backend: Backend, sender: str) -> list[dict]:
    async with backend.sessions() as session:
        rows = await session.scalars(
            select(ConversationEvent.data)
            .where(ConversationEvent.sender_id == sender)
            .order_by(ConversationEvent.id)
        )
        return [json.loads(row) for row in rows]


async def test_empty_message_and_whitespace_get_a_hint(chat: Chat) -> None:
    for empty in ("", "   ", "\n"):
        answers = await chat.say(empty)
        assert "没有收到文字" in answers[0]["text"]
        assert answers[0]["buttons"][0]["payload"] == "/menu"
    assert "建培助手" in await chat.text("/greet")


async def test_a_5000_character_message_is_refused_and_not_kept_whole(chat: Chat, backend: Backend) -> None:
    answer = await chat.text("证书" * 2500)
    assert "消息太长" in answer
    user = [e for e in await stored_events(backend, chat.conversation_id) if e["event"] == "user"]
    assert len(user[-1]["text"]) <= 200
    assert "4009999355" in await chat.text("/contact_support")


async def test_malformed_requests_get_a_chinese_error(chat_http: httpx.AsyncClient) -> None:
    broken = await chat_http.post(
        "/webhooks/rest/webhook", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert broken.status_code == 422
    assert broken.json()["error"]["message"] == "请求内容不是有效的 JSON"
    nobody = await chat_http.post("/webhooks/rest/webhook", json={"message": "你好"})
    assert nobody.status_code == 422 and "缺少" in nobody.json()["error"]["message"]


async def test_double_tap_is_answered_once(chat: Chat, backend: Backend, clock: FakeClock) -> None:
    """Two taps of 确认提交 arriving together: the photo is submitted once, the second tap is told so."""
    await load_demo_data(backend)
    await bind_demo_trainee(chat.http, backend, chat.conversation_id)
    await chat.say("/upload_photo")
    clock.advance(seconds=5)
    content = base64.b64encode(photo("ok.jpg")).decode()
    assert "一经上传不可修改" in await chat.text(
        "", attachment={"filename": "me.jpg", "content_base64": content}
    )
    clock.advance(seconds=5)
    first, second = await asyncio.gather(chat.text("/confirm_photo"), chat.text("/confirm_photo"))
    assert sorted([first, second]) == sorted(
        ["照片已上传。照片一经上传不可修改。", "收到了，正在办，请不要重复点。"]
    )
    async with backend.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Photo)) == 1


async def test_broken_base64_photo_is_refused_in_plain_words(chat: Chat) -> None:
    await chat.say("/upload_photo")
    answer = await chat.text("", attachment={"filename": "x.jpg", "content_base64": "@@not base64@@"})
    assert "打不开" in answer
    assert "已取消" in await chat.text("取消")


async def test_binding_with_someone_elses_phone_needs_their_code(chat: Chat, backend: Backend) -> None:
    """Knowing a trainee's phone is not enough: without the code nothing is bound."""
    await load_demo_data(backend)
    await chat.say("/bind_account")
    await chat.say("13900000001")
    for guess in ("111111", "222222", "333333", "444444", "555555"):
        assert "验证码不对" in await chat.text(guess)
    assert "输错次数太多" in await chat.text("666666")
    async with backend.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(ChatBinding)) == 0
    assert "先绑定" in await chat.text("/certificate_status")


async def test_a_rest_client_cannot_speak_for_another_channels_chat(
    chat_http: httpx.AsyncClient, backend: Backend
) -> None:
    """A chat of another channel (say Telegram's "telegram:42") is bound; naming it as a REST sender
    reaches a different, unbound conversation."""
    await load_demo_data(backend)
    await bind_demo_trainee(chat_http, backend, "telegram:42")
    impostor = Chat(chat_http, "telegram:42")
    assert "先绑定" in await impostor.text("/certificate_status")


@pytest.mark.parametrize("trick", ["x?sender_id=rest:trainee-bound", "trainee-bound/", "..%2ftrainee-bound"])
async def test_a_sender_shaped_like_a_url_reaches_only_its_own_chat(
    chat_http: httpx.AsyncClient, backend: Backend, trick: str
) -> None:
    """Chat ids never travel in URLs: a sender built to bend one reads no other chat's binding and
    breaks no step."""
    await load_demo_data(backend)
    await bind_demo_trainee(chat_http, backend, "rest:trainee-bound")
    assert "先绑定" in await Chat(chat_http, trick).text("/certificate_status")
    assert "221175" in await Chat(chat_http, "trainee-bound").text("/certificate_status")


async def test_logs_never_name_a_chat_by_its_id(
    chat: Chat, backend: Backend, capfd: pytest.CaptureFixture[str]
) -> None:
    """The sender id is the chat's secret: a step that fails inside the backend is answered with the
    apology and logged, and no log line carries the id."""
    await load_demo_data(backend)
    await bind_demo_trainee(chat.http, backend, chat.conversation_id)
    backend.settings.data_dir.mkdir(parents=True, exist_ok=True)
    (backend.settings.data_dir / "pending_photos").write_text("a file where the photo folder should be")
    await chat.say("/upload_photo")
    content = base64.b64encode(photo("ok.jpg")).decode()
    answer = await chat.text("", attachment={"filename": "me.jpg", "content_base64": content})
    assert "4009999355" in answer  # the apology, not a crash
    logged = capfd.readouterr()
    lines = (logged.out + logged.err).splitlines()
    assert any("backend_error" in line for line in lines)
    assert not [line for line in lines if chat.sender in line]
