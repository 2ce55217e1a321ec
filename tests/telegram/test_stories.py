"""The Rasa test stories of tests/test_conversations.yml, every one typed into a Telegram chat: each
step is an update delivered to the webhook (a photo as a Telegram photo), the answers are what the
fake Bot API server received for that chat."""

from __future__ import annotations

from typing import Any

import pytest

from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import (
    PHOTO,
    Story,
    bind_demo_trainee,
    demo_learns,
    latest_code,
    load_stories,
    photo,
    register_demo_on_platform,
    register_on_platform,
    right_answers,
    turn_events,
)
from tests.learning.conftest import load_catalog, write_catalog
from tests.telegram.conftest import TelegramUser

STORIES = load_stories()


async def given(story: Story, user: TelegramUser, backend: Backend, clock: Any) -> None:
    http = user.http
    if "demo" in story.given or "bound" in story.given:
        await load_demo_data(backend)
    if "catalog" in story.given:
        await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))
    if "bound" in story.given:
        await bind_demo_trainee(http, backend, user.conversation_id)
        clock.advance(seconds=61)
    if "platform" in story.given:
        await register_demo_on_platform(http, backend)
        clock.advance(seconds=61)
    if "chagan_on_platform" in story.given:
        await register_on_platform(http, backend, "查干湖", "220723197011030711", "13900000004")
        clock.advance(seconds=61)
    if "learned" in story.given:
        await demo_learns(http, backend, clock)


# Every story runs on both databases through the REST channel; through this channel one database
# is enough to show the channel carries every flow.
@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_story_in_telegram(story: Story, tg_user: TelegramUser, backend: Backend, clock: Any) -> None:
    await given(story, tg_user, backend, clock)
    answered = 0
    for number, turn in enumerate(story.turns, start=1):
        where = f"{story.name}, turn {number} ({turn.user!r})"
        matched = PHOTO.match(turn.user)
        if matched:
            update = tg_user.updates.photo(photo(matched.group("name")))
        else:
            text = turn.user
            if "{code}" in text:
                text = text.replace("{code}", await latest_code(backend))
            elif "{right}" in text:
                text = text.replace("{right}", (await right_answers(backend))[answered])
                answered += 1
            update = tg_user.updates.text(text)
        calls = await tg_user.send(update)
        texts = "\n".join(str(c.fields.get("text") or c.fields.get("caption") or "") for c in calls)
        events = await turn_events(backend, tg_user.conversation_id)
        if turn.intent:
            assert events[0]["parse_data"]["intent"]["name"] == turn.intent, where
        actions = [e["name"] for e in events if e["event"] == "action" and e["name"] != "action_listen"]
        assert actions == turn.actions, f"{where}: ran {actions}, story says {turn.actions}; said {texts!r}"
        for expected in turn.bot:
            assert expected in texts, f"{where}: {expected!r} not in {texts!r}"
        slots = {e["name"]: e["value"] for e in events if e["event"] == "slot"}
        for name, value in turn.slots.items():
            assert name in slots and slots[name] == value, f"{where}: slot {name} = {slots.get(name)!r}"
        if turn.active_loop is not False:
            loops = [e["name"] for e in events if e["event"] == "active_loop"]
            assert loops and loops[-1] == turn.active_loop, f"{where}: active loop {loops}"
        clock.advance(seconds=5)
