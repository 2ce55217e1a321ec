"""A completion notice reaches a bound Telegram chat as a Telegram message: the guide's text with how
to stop reminders, the next steps as an inline keyboard, and the notice keeps Telegram's message id."""

from __future__ import annotations

import httpx

from bot.app import create_assistant_app
from nlu import Interpreter
from services.context import Backend
from services.learning.completion import COMPLETION_SMS
from tests.assistant.test_end_to_end import uvicorn_serving
from tests.conftest import FakeClock
from tests.documents.trainees import add_certificate, registered
from tests.notices.conftest import bind, china, notices, scheduler_of, texts_to
from tests.notices.test_delivery import STOP, complete
from tests.telegram.conftest import fake, telegram_settings  # noqa: F401
from tests.telegram.fake_api import FakeTelegram


async def test_completion_notice_reaches_a_bound_telegram_chat_with_its_buttons_and_message_id(
    backend: Backend,
    interpreter: Interpreter,
    clock: FakeClock,
    fake: FakeTelegram,  # noqa: F811
) -> None:
    clock.current = china(2026, 6, 3, 10)
    app = create_assistant_app(backend, telegram_settings(fake, scheduler="off"), interpreter)
    async with uvicorn_serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        trainee = await registered(http, backend)
        await bind(backend, trainee, "telegram:7301")
        await complete(backend, trainee.person_id, await add_certificate(backend, trainee))
        try:
            assert await scheduler_of(app).tick() == 1
        finally:
            await scheduler_of(app).stop()
            await app.state.telegram.stop()
    [message] = fake.sent(7301)
    assert str(message.fields["text"]).startswith(COMPLETION_SMS) and STOP in message.fields["text"]
    assert [b["text"] for b in message.buttons] == ["学时证明", "电子证书"]
    [notice] = await notices(backend, trainee.person_id)
    assert (notice.state, notice.via) == ("sent", "chat")
    assert notice.message_ids is not None and notice.message_ids[0].startswith("telegram:7301/")
    assert await texts_to(backend, trainee.phone) == [], "the chat took it: no SMS"


async def test_a_notice_whose_telegram_send_got_no_answer_is_unknown_and_not_texted_as_well(
    backend: Backend,
    interpreter: Interpreter,
    clock: FakeClock,
    fake: FakeTelegram,  # noqa: F811
) -> None:
    """Telegram may have shown it: an SMS as well would tell him twice."""
    clock.current = china(2026, 6, 3, 10)
    settings = telegram_settings(fake, scheduler="off", telegram_send_timeout=1)
    app = create_assistant_app(backend, settings, interpreter)
    async with uvicorn_serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as http:
        trainee = await registered(http, backend)
        await bind(backend, trainee, "telegram:7302")
        await complete(backend, trainee.person_id, await add_certificate(backend, trainee))
        fake.fail("sendMessage", 0)
        try:
            await scheduler_of(app).tick()
        finally:
            await scheduler_of(app).stop()
            await app.state.telegram.stop()
    assert len(fake.sent(7302, ok_only=False)) == 1, "sent once, not again"
    [notice] = await notices(backend, trainee.person_id)
    assert (notice.state, notice.detail) == ("unknown", "send_uncertain")
    assert await texts_to(backend, trainee.phone) == [], "no SMS on top of a message that may have arrived"
