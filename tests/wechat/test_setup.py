"""`jianpei wechat setup` creates the custom menu 办理 / 我的 / 帮助 with the token the workers share."""

from __future__ import annotations

import asyncio
import os
import sys

from sqlalchemy import select

from services.context import Backend
from storage.models import WechatToken
from tests.wechat.conftest import OPENID, Follower, shown
from tests.wechat.fake_api import APP_ID, APP_SECRET, TOKEN, FakeWechat


async def test_setup_creates_the_menu_whose_clicks_the_channel_answers(
    backend: Backend, fake: FakeWechat, follower: Follower
) -> None:
    env = {
        **os.environ,
        "JIANPEI_DATABASE_URL": backend.engine.url.render_as_string(hide_password=False),
        "JIANPEI_DATA_DIR": str(backend.settings.data_dir),
        "JIANPEI_ENV": "test",
        "JIANPEI_WECHAT_APP_ID": APP_ID,
        "JIANPEI_WECHAT_APP_SECRET": APP_SECRET,
        "JIANPEI_WECHAT_TOKEN": TOKEN,
        "JIANPEI_WECHAT_API_BASE": fake.base,
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot.cli", "wechat", "setup",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, out.decode()
    assert "/webhooks/wechat" in out.decode()
    assert fake.menu is not None
    buttons = fake.menu["button"]
    assert [b["name"] for b in buttons] == ["办理", "我的", "帮助"]
    assert all(b["type"] == "click" for b in buttons)

    async with backend.sessions() as session:
        stored = await session.scalar(select(WechatToken.access_token))
    await follower.send(follower.server.event("CLICK", buttons[2]["key"]))
    assert "常见问题" in shown(fake.sent(OPENID))
    assert fake.token_fetches == 1  # the channel used the token setup stored
    assert {c.token for c in fake.sent(OPENID)} == {stored}
