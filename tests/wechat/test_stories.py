"""The Rasa test stories of tests/test_conversations.yml, every one typed into a WeChat conversation:
each step is a message WeChat pushes to the webhook (a photo as a WeChat image message), the answers
are the customer-service messages the fake WeChat API received; and one follower's whole way, from
following the account to the e-certificate link."""

from __future__ import annotations

from typing import Any

import pytest

from services.context import Backend
from services.registry.demo import load_demo_data
from tests.assistant.stories import (
    DEMO_ID,
    DEMO_PHONE,
    PHOTO,
    Story,
    check_turn,
    demo_learning_headers,
    filled_in,
    latest_code,
    load_stories,
    photo,
    register_demo_on_platform,
    right_answers,
    set_the_scene,
    turn_events,
)
from tests.learning.conftest import Trainee, enrol, load_catalog, watch_all, write_catalog
from tests.wechat.conftest import Follower, shown
from tests.wechat.fake_api import FakeWechat

STORIES = load_stories()


# Every story runs on both databases through the REST channel; through this channel one database
# is enough to show the channel carries every flow.
@pytest.mark.parametrize("migrated_engine", ["sqlite"], indirect=True)
@pytest.mark.parametrize("story", STORIES, ids=[s.name for s in STORIES])
async def test_story_in_wechat(
    story: Story, follower: Follower, fake: FakeWechat, backend: Backend, clock: Any
) -> None:
    await set_the_scene(story, follower.server.http, backend, follower.conversation_id, clock)
    answered = 0
    for number, turn in enumerate(story.turns, start=1):
        where = f"{story.name}, turn {number} ({turn.user!r})"
        matched = PHOTO.match(turn.user)
        if matched:
            xml = follower.server.image(fake.put_media(photo(matched.group("name"))))
        else:
            text, answered = await filled_in(turn.user, backend, answered)
            xml = follower.server.text(text)
        said = shown(await follower.send(xml))
        check_turn(where, turn, await turn_events(backend, follower.conversation_id), said)
        clock.advance(seconds=5)


async def test_from_following_to_the_e_certificate_link(
    follower: Follower, fake: FakeWechat, backend: Backend, clock: Any
) -> None:
    http = follower.server.http
    await load_demo_data(backend)
    await load_catalog(backend, write_catalog(backend.settings.data_dir / "catalog"))

    assert "建培助手" in shown(await follower.send(follower.server.event("subscribe")))
    assert "手机号" in await follower.tap("绑定已有账号")
    assert "139****0001" in await follower.say(DEMO_PHONE)
    assert "绑定成功，古林前" in await follower.say(await latest_code(backend, DEMO_PHONE))
    clock.advance(seconds=61)

    await follower.say("上传照片")
    calls = await follower.send(follower.server.image(fake.put_media(photo("big.jpg"))))
    images = [c for c in calls if c.msgtype == "image"]
    assert len(images) == 1 and images[0].body["image"]["media_id"] in fake.media
    assert "照片已上传" in await follower.tap("确认提交")

    await register_demo_on_platform(http, backend)
    clock.advance(seconds=61)
    trainee = Trainee(0, "古林前", DEMO_ID, DEMO_PHONE, await demo_learning_headers(http), ["221175"])
    await watch_all(http, trainee, await enrol(http, trainee, "221175", year=2026, package="PKG-JX"), clock)

    assert "第1题" in await follower.say("/start_assessment")
    for answer in await right_answers(backend):
        said = await follower.say(answer)
    assert "考核通过" in said
    said = shown(await follower.send(follower.server.event("CLICK", "JIANPEI_MINE")))
    assert "221175" in said
    said = await follower.say('/renew_certificate{"certificate_number":"221175"}')
    assert "证书更新成功" in said
    link = next(line for line in said.splitlines() if "/downloads/" in line)
    pdf = await http.get(link[link.index("http") :].split()[0])
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
