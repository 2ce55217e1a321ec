"""Enrolment in chat: the package buttons show the hours the trainee would really study."""

from __future__ import annotations

import httpx

from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.conftest import Chat
from tests.assistant.stories import bind_demo_trainee, register_demo_on_platform
from tests.conftest import FakeClock
from tests.learning.conftest import load_catalog, write_catalog


async def _package_titles(chat: Chat, number: str, year: int) -> list[str]:
    answers = await chat.say(f'/enroll_course{{"certificate_number":"{number}","year":"{year}"}}')
    return [b["title"] for a in answers for b in a.get("buttons") or []]


async def test_second_certificate_of_a_year_shows_only_professional_hours(
    chat: Chat, chat_http: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    await load_demo_data(backend)
    await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))
    await bind_demo_trainee(chat_http, backend, chat.conversation_id)
    clock.advance(seconds=61)
    await register_demo_on_platform(chat_http, backend)
    year = clock().year
    first = await _package_titles(chat, "221175", year)
    assert first and all("+通用" in title for title in first), first
    clock.advance(seconds=5)
    done = await chat.text(
        f'/enroll_course{{"certificate_number":"221175","year":"{year}","package_code":"PKG-JX","answer":"confirm"}}'
    )
    assert "报名成功" in done
    clock.advance(seconds=5)
    second = await _package_titles(chat, "吉建培2021000458", year)
    assert second and all("通用课免学" in title and "+通用" not in title for title in second), second
    clock.advance(seconds=5)
    other_year = await _package_titles(chat, "吉建培2021000458", year - 1)
    assert other_year and all("+通用" in title for title in other_year), other_year
