"""A checked photo waits for 确认提交 at the warning only: leaving that step, or a new session,
forgets it, so a stale tap can never submit the photo that cannot be changed."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlsplit

from sqlalchemy import func, select

from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ConversationEvent, Photo
from tests.assistant.conftest import Chat
from tests.assistant.stories import bind_demo_trainee, photo
from tests.conftest import FakeClock

NOTHING_PENDING = "还没有要提交的照片"
BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{200,}")  # far longer than any key or id in an event


async def _photos(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(Photo)) or 0)


async def _checked_photo(chat: Chat, backend: Backend, clock: FakeClock) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(chat.http, backend, chat.conversation_id)
    content = base64.b64encode(photo("ok.jpg")).decode()
    assert "一经上传不可修改" in await chat.text(
        "", attachment={"filename": "me.jpg", "content_base64": content}
    )
    clock.advance(seconds=5)


async def test_confirm_after_another_flow_submits_nothing(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await _checked_photo(chat, backend, clock)
    await chat.say("/enroll_course")
    clock.advance(seconds=5)
    assert NOTHING_PENDING in await chat.text("/confirm_photo")
    assert await _photos(backend) == 0


async def test_confirm_in_a_new_session_submits_nothing(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await _checked_photo(chat, backend, clock)
    clock.advance(minutes=61)
    assert NOTHING_PENDING in await chat.text("/confirm_photo")
    assert await _photos(backend) == 0


async def test_confirm_right_after_the_warning_submits(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await _checked_photo(chat, backend, clock)
    assert "照片已上传" in await chat.text("/confirm_photo")
    assert await _photos(backend) == 1


async def test_no_photo_bytes_in_stored_chat_history(chat: Chat, backend: Backend, clock: FakeClock) -> None:
    """The mended photo is shown to the trainee as a signed link to the backend's pending copy, then
    submitted, yet no stored event holds its bytes."""
    await load_demo_data(backend)
    await bind_demo_trainee(chat.http, backend, chat.conversation_id)
    content = base64.b64encode(photo("big.jpg")).decode()
    answers = await chat.say("", attachment={"filename": "big.jpg", "content_base64": content})
    images = [str(a["image"]) for a in answers if a.get("image")]
    assert len(images) == 1 and images[0].startswith(backend.settings.public_url), images
    preview = await chat.http.get(urlsplit(images[0]).path)
    assert preview.status_code == 200 and preview.content.startswith(b"\xff\xd8")
    forged = await chat.http.get(urlsplit(images[0]).path[:-3] + "abc")
    assert forged.status_code == 404
    clock.advance(seconds=5)
    assert "照片已上传" in await chat.text("/confirm_photo")
    assert not list((backend.settings.data_dir / "pending_photos").iterdir())  # submitted, then gone
    assert (await chat.http.get(urlsplit(images[0]).path)).status_code == 404
    async with backend.sessions() as session:
        stored = (
            await session.scalars(
                select(ConversationEvent.data).where(ConversationEvent.sender_id == chat.conversation_id)
            )
        ).all()
    assert stored
    for data in stored:
        assert "base64," not in data
        assert not BASE64_RUN.search(data), data[:200]


async def test_upload_photo_asks_for_the_photo_once(chat: Chat) -> None:
    answers = [a.get("text", "") for a in await chat.say("/upload_photo")]
    assert sum("发一张照片" in text for text in answers) == 1, answers
    assert any("照片要求" in text for text in answers)
    nudge = await chat.text("好的")  # text instead of a photo: told once more, once
    assert nudge.count("发一张照片") == 1


async def test_a_no_at_the_warning_deletes_the_checked_photo(
    chat: Chat, backend: Backend, clock: FakeClock
) -> None:
    await _checked_photo(chat, backend, clock)
    assert list((backend.settings.data_dir / "pending_photos").iterdir())
    assert "没有提交" in await chat.text("/deny")
    assert not list((backend.settings.data_dir / "pending_photos").iterdir())
    clock.advance(seconds=5)
    assert NOTHING_PENDING in await chat.text("/confirm_photo")
