"""The Rasa test stories of tests/test_conversations.yml, every one typed into a Telegram chat: each
step is an update delivered to the webhook (a photo as a Telegram photo), the answers are what the
fake Bot API server received for that chat."""

from __future__ import annotations

from typing import Any

import pytest

from services.context import Backend
from tests.assistant.stories import (
    PHOTO,
    Story,
    check_turn,
    filled_in,
    load_stories,
    photo,
    set_the_scene,
    turn_events,
)
from tests.telegram.conftest import TelegramUser

STORIES = load_stories()


# Every story runs on both databases through the REST channel; through this channel one database
# is enough to show the channel carries every flow.
@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_story_in_telegram(story: Story, tg_user: TelegramUser, backend: Backend, clock: Any) -> None:
    await set_the_scene(story, tg_user.http, backend, tg_user.conversation_id, clock)
    answered = 0
    for number, turn in enumerate(story.turns, start=1):
        where = f"{story.name}, turn {number} ({turn.user!r})"
        matched = PHOTO.match(turn.user)
        if matched:
            update = tg_user.updates.photo(photo(matched.group("name")))
        else:
            text, answered = await filled_in(turn.user, backend, answered)
            update = tg_user.updates.text(text)
        calls = await tg_user.send(update)
        texts = "\n".join(str(c.fields.get("text") or c.fields.get("caption") or "") for c in calls)
        check_turn(where, turn, await turn_events(backend, tg_user.conversation_id), texts)
        clock.advance(seconds=5)
