"""Text no database can keep — a NUL character, a lone surrogate — gets a Chinese answer over the REST
webhook on both databases, and the log stays short: no traceback, no crash of the turn."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import structlog
from sqlalchemy import select

from services.context import Backend
from services.logging import configure_logging
from storage.models import ConversationEvent

WEBHOOK = "/webhooks/rest/webhook"
CHINESE = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture
def serve_logging() -> Iterator[None]:
    """Logging as `jianpei serve` sets it up."""
    configure_logging("dev")
    yield
    structlog.reset_defaults()


async def post_raw(http: httpx.AsyncClient, body: dict[str, Any], route: str = WEBHOOK) -> httpx.Response:
    # json.dumps escapes a lone surrogate as \ud800, as a fuzzer or a broken client sends it
    return await http.post(route, content=json.dumps(body), headers={"content-type": "application/json"})


def logged(capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    out, err = capfd.readouterr()
    return out + err + caplog.text


@pytest.mark.usefixtures("serve_logging")
async def test_a_sender_with_nul_or_a_lone_surrogate_is_refused_in_chinese(
    chat_http: httpx.AsyncClient, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    for sender in ("web-\x00abc", "web-\ud800abc", "\x00"):
        for route, extra in ((WEBHOOK, {"message": "你好"}), ("/webhooks/rest/history", {})):
            refused = await post_raw(chat_http, {"sender": sender, **extra}, route)
            assert refused.status_code == 422, refused.text
            assert refused.json() == {
                "error": {"code": "invalid_input", "message": "发送人里有无法识别的字符"}
            }
    fine = await post_raw(chat_http, {"sender": "web-abc", "message": "你好"})
    assert fine.status_code == 200 and CHINESE.search(fine.json()[0]["text"])
    log = logged(capfd, caplog)
    assert "Traceback" not in log and len(log) < 2_000, log[:3_000]


@pytest.mark.usefixtures("serve_logging")
async def test_a_message_with_nul_or_a_lone_surrogate_gets_a_chinese_reply(
    chat_http: httpx.AsyncClient,
    backend: Backend,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A chat client expects Rasa's answer list, so the message is answered, minus what cannot be kept;
    the same words without the bad character get the same answer."""
    for bad, clean in (
        ("/greet\x00", "/greet"),
        ("我要续期\ud800", "我要续期\ufffd"),
        ("\ud800\x00", "\ufffd"),
    ):
        answered = await post_raw(chat_http, {"sender": "web-bad-text", "message": bad})
        assert answered.status_code == 200, answered.text
        answers = answered.json()
        assert answers and all(CHINESE.search(a.get("text", "")) for a in answers if "text" in a)
        assert "系统出了点问题" not in answered.text
        same = await post_raw(chat_http, {"sender": "web-good-text", "message": clean})
        assert [a.get("text") for a in same.json()] == [a.get("text") for a in answers]
    async with backend.sessions() as session:
        stored = list(
            await session.scalars(
                select(ConversationEvent.data).where(ConversationEvent.sender_id == "rest:web-bad-text")
            )
        )
    assert stored and not any("\\u0000" in data or "\\ud800" in data for data in stored)
    log = logged(capfd, caplog)
    assert "Traceback" not in log and len(log) < 2_000, log[:3_000]
