"""The access_token: fetched once for every worker and kept in the database, fetched again once when
WeChat calls it invalid; WeChat's refusals (outside 48 hours, quota) reach the sender."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from bot.app import create_assistant_app
from bot.channels.wechat.api import WechatError
from nlu import Interpreter
from services.context import Backend
from storage.models import WechatToken
from tests.wechat.conftest import OPENID, wechat_settings
from tests.wechat.fake_api import FakeWechat


async def test_many_sends_from_two_workers_at_once_fetch_one_token_kept_in_the_database(
    backend: Backend, interpreter: Interpreter, fake: FakeWechat
) -> None:
    fake.token_delay = 0.2  # the fetch is under way while every other send asks for the token
    workers = [create_assistant_app(backend, wechat_settings(fake), interpreter) for _ in range(2)]
    try:
        sends = [
            app.state.outbound.send(f"wechat:{OPENID}-{n}", [{"text": f"通知{n}"}])
            for n in range(5)
            for app in workers
        ]
        await asyncio.gather(*sends)
    finally:
        for app in workers:
            await app.state.wechat.stop()
    assert fake.token_fetches == 1
    assert len(fake.sent()) == 10
    async with backend.sessions() as session:
        stored = await session.scalar(select(WechatToken.access_token))
    assert stored in fake.valid_tokens
    assert {c.token for c in fake.sent()} == {stored}


async def test_an_invalid_credential_fetches_a_new_token_once_and_the_message_goes(
    wechat_app: FastAPI, fake: FakeWechat
) -> None:
    outbound = wechat_app.state.outbound
    await outbound.send(f"wechat:{OPENID}", [{"text": "第一条"}])
    fake.revoke_tokens()  # someone fetched a token elsewhere: ours is refused with 40001
    await outbound.send(f"wechat:{OPENID}", [{"text": "第二条"}])
    assert fake.texts(OPENID) == ["第一条", "第二条"]
    assert fake.token_fetches == 2

    fake.fail("message/custom/send", 40001, times=2)  # refused even with a new token: no loop
    with pytest.raises(WechatError) as refused:
        await outbound.send(f"wechat:{OPENID}", [{"text": "第三条"}])
    assert refused.value.code == 40001
    assert fake.token_fetches == 3


async def test_outside_48_hours_a_configured_template_carries_the_text_else_the_refusal_is_raised(
    backend: Backend, interpreter: Interpreter, fake: FakeWechat, wechat_app: FastAPI
) -> None:
    fake.fail("message/custom/send", 45047)
    with pytest.raises(WechatError) as refused:
        await wechat_app.state.outbound.send(f"wechat:{OPENID}", [{"text": "您的学时已满"}])
    assert refused.value.code == 45047  # the sender texts an SMS instead

    fake.fail("message/custom/send", 45009)
    with pytest.raises(WechatError) as quota:
        await wechat_app.state.outbound.send(f"wechat:{OPENID}", [{"text": "您的学时已满"}])
    assert quota.value.code == 45009

    app = create_assistant_app(backend, wechat_settings(fake, wechat_template_id="TPL-1"), interpreter)
    try:
        fake.fail("message/custom/send", 45047)
        await app.state.outbound.send(f"wechat:{OPENID}", [{"text": "您的学时已满"}])
    finally:
        await app.state.wechat.stop()
    templates = [c for c in fake.sent(OPENID) if c.path == "message/template/send"]
    assert [t.body["template_id"] for t in templates] == ["TPL-1"]
    assert templates[0].body["data"]["content"]["value"] == "您的学时已满"
