"""What a follower sends and what reaches him: the follow greeting with its menu, the custom menu's
clicks, a tapped menu item, photos, what the assistant cannot read, unfollowing; and a turn that
takes longer than WeChat waits still reaches him, once."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.channels.wechat.channel import NOT_UNDERSTOOD
from bot.channels.wechat.output import Unfollowed
from services.context import Backend
from services.registry.demo import load_demo_data
from storage.models import ConversationEvent
from tests.assistant.stories import bind_demo_trainee, photo
from tests.wechat.conftest import OPENID, Follower, shown
from tests.wechat.fake_api import FakeWechat


async def test_following_greets_with_a_menu_whose_items_run_their_intents(follower: Follower) -> None:
    greeting = shown(await follower.send(follower.server.event("subscribe")))
    assert "建培助手" in greeting
    assert "绑定已有账号" in greeting
    assert all(len(item["id"]) <= 20 for item in follower.menu)
    asked = await follower.tap("绑定已有账号")
    assert "手机号" in asked


async def test_the_custom_menu_clicks_answer_their_part(follower: Follower) -> None:
    assert "我能帮您办这些事" in shown(await follower.send(follower.server.event("CLICK", "JIANPEI_MENU")))
    assert "常见问题" in shown(await follower.send(follower.server.event("CLICK", "JIANPEI_HELP")))
    mine = shown(await follower.send(follower.server.event("CLICK", "JIANPEI_MINE")))
    assert "绑定" in mine  # an unbound follower is asked to bind, shown nobody's certificates
    assert await follower.send(follower.server.event("VIEW", "https://example.com")) == []


async def test_voice_location_and_other_kinds_get_a_short_answer(follower: Follower) -> None:
    for xml in (follower.server.voice(), follower.server.location()):
        assert shown(await follower.send(xml)) == NOT_UNDERSTOOD
    recognised = follower.server.voice(recognition="菜单")  # WeChat's speech recognition is on
    assert "我能帮您办这些事" in shown(await follower.send(recognised))


async def test_the_repaired_photo_arrives_as_a_wechat_image(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    await load_demo_data(backend)
    await bind_demo_trainee(follower.server.http, backend, follower.conversation_id)
    await follower.say("/upload_photo")
    calls = await follower.send(follower.server.image(fake.put_media(photo("big.jpg"))))
    assert "我帮您改好了一张" in shown(calls)
    images = [c for c in calls if c.msgtype == "image"]
    assert len(images) == 1
    _filename, content = fake.media[images[0].body["image"]["media_id"]]
    assert content[:2] == b"\xff\xd8"  # a JPEG, uploaded as temporary media
    assert content != photo("big.jpg")
    assert "照片已上传" in await follower.tap("确认提交")


async def test_a_photo_wechat_cannot_hand_over_is_asked_again(follower: Follower) -> None:
    assert "没有收到" in shown(await follower.send(follower.server.image("media-nobody-has")))


async def test_after_unfollowing_nothing_is_sent_until_he_follows_again(
    follower: Follower, fake: FakeWechat, wechat_app: FastAPI
) -> None:
    await follower.send(follower.server.event("unsubscribe"))
    with pytest.raises(Unfollowed):
        await wechat_app.state.outbound.send(follower.conversation_id, [{"text": "提醒"}])
    assert fake.sent(OPENID) == []
    assert "建培助手" in shown(await follower.send(follower.server.event("subscribe")))
    await wechat_app.state.outbound.send(follower.conversation_id, [{"text": "提醒"}])
    assert fake.texts(OPENID)[-1] == "提醒"


async def test_a_turn_slower_than_wechat_waits_is_answered_at_once_and_its_reply_still_arrives_once(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    release = fake.hold("media/get")  # the photo download, and so the turn, does not end yet
    media_id = fake.put_media(photo("ok.jpg"))
    xml = follower.server.image(media_id)
    first = await follower.server.post(xml)
    assert (first.status_code, first.text) == (200, "success")  # while the turn is still running
    await fake.wait_for(lambda: any(c.path == "media/get" for c in fake.calls))
    retries = await asyncio.gather(*(follower.server.post(xml) for _ in range(2)))  # WeChat's retries
    assert [(r.status_code, r.text) for r in retries] == [(200, "success")] * 2
    assert fake.sent(OPENID) == []
    release.set()
    await follower.channel.idle()
    assert len(fake.sent(OPENID)) >= 1
    assert len([c for c in fake.calls if c.path == "media/get"]) == 1
    async with backend.sessions() as session:
        turns = await session.scalar(
            select(func.count())
            .select_from(ConversationEvent)
            .where(
                ConversationEvent.sender_id == follower.conversation_id, ConversationEvent.type_name == "user"
            )
        )
    assert turns == 1
