"""The webhook: only WeChat (the token's signature, in safe mode the AES key's) gets in; a message is
handled once however often WeChat pushes it; hostile XML is refused without reading files or
expanding entities."""

from __future__ import annotations

import asyncio
import time

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from bot.app import create_assistant_app
from nlu import Interpreter
from services.context import Backend
from storage.models import ConversationEvent, WechatMessage
from tests.wechat.conftest import OPENID, Follower, wechat_settings
from tests.wechat.fake_api import TOKEN, FakeWechat, WechatServer, sign


async def user_turns(backend: Backend, conversation: str) -> int:
    async with backend.sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(ConversationEvent)
            .where(ConversationEvent.sender_id == conversation, ConversationEvent.type_name == "user")
        )
    return int(count or 0)


async def inbox_size(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(WechatMessage)) or 0)


async def test_the_url_check_echoes_only_to_a_right_signature(wx_http: httpx.AsyncClient) -> None:
    timestamp, nonce = str(int(time.time())), "n0nce"
    good = {"signature": sign(TOKEN, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
    answer = await wx_http.get("/webhooks/wechat", params={**good, "echostr": "echo-4242"})
    assert answer.status_code == 200
    assert answer.text == "echo-4242"
    for wrong in ({**good, "signature": sign("other-token", timestamp, nonce)}, {**good, "nonce": "x"}, {}):
        answer = await wx_http.get("/webhooks/wechat", params={**wrong, "echostr": "echo-4242"})
        assert answer.status_code == 403
        assert "echo-4242" not in answer.text


async def test_a_wrong_signature_is_refused_and_nothing_is_handled(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    server = follower.server
    answer = await server.post(server.text("你好"), token="not-the-token")
    assert answer.status_code == 403
    query, body = server.query(server.text("你好"))
    for broken in ({**query, "signature": ""}, {**query, "timestamp": "1"}, {}):
        assert (await server.post_raw(body.encode(), broken)).status_code == 403
    await follower.channel.idle()
    assert await inbox_size(backend) == 0
    assert fake.sent() == []
    assert await user_turns(backend, follower.conversation_id) == 0


async def test_a_message_pushed_three_times_at_once_is_one_turn(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    xml = follower.server.text("你好")
    answers = await asyncio.gather(*(follower.server.post(xml) for _ in range(3)))
    assert [(a.status_code, a.text) for a in answers] == [(200, "success")] * 3
    await follower.channel.idle()
    assert await user_turns(backend, follower.conversation_id) == 1
    assert len([t for t in fake.texts(OPENID) if "建培助手" in t]) == 1


async def test_an_event_pushed_again_is_one_turn_and_a_later_one_is_another(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    follow = follower.server.event("subscribe")
    for _ in range(3):
        await follower.send(follow)
    assert await user_turns(backend, follower.conversation_id) == 1
    await follower.send(follower.server.event("CLICK", "JIANPEI_MENU"))
    assert await user_turns(backend, follower.conversation_id) == 2


async def test_safe_mode_takes_only_encrypted_messages_signed_with_the_aes_key(
    backend: Backend, interpreter: Interpreter, fake: FakeWechat
) -> None:
    app = create_assistant_app(backend, wechat_settings(fake, safe=True), interpreter)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
            safe = Follower(WechatServer(http, OPENID, safe=True), fake, app.state.wechat)
            assert "建培助手" in await safe.say("你好")
            plain = WechatServer(http, OPENID)  # right token, but the body is not covered by it
            assert (await plain.post(plain.text("你好"))).status_code == 403
            query, envelope = safe.server.query(safe.server.text("菜单"))
            forged = {**query, "msg_signature": sign(TOKEN, query["timestamp"], query["nonce"], "other")}
            assert (await safe.server.post_raw(envelope.encode(), forged)).status_code == 403
            await safe.channel.idle()
            assert await user_turns(backend, safe.conversation_id) == 1
    finally:
        await app.state.wechat.stop()


XXE = """<?xml version="1.0"?>
<!DOCTYPE xml [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<xml><ToUserName>gh</ToUserName><FromUserName>{openid}</FromUserName><CreateTime>1</CreateTime>
<MsgType>text</MsgType><Content>&secret;</Content><MsgId>77</MsgId></xml>"""

LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY l0 "lol">'
    + "".join(f'<!ENTITY l{n} "{f"&l{n - 1};" * 10}">' for n in range(1, 10))
    + "]><xml><FromUserName>{openid}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>"
    "<Content>&l9;</Content><MsgId>78</MsgId></xml>"
)


async def test_hostile_or_broken_xml_is_refused_and_nothing_is_handled(
    follower: Follower, fake: FakeWechat, backend: Backend
) -> None:
    server = follower.server
    bodies = {
        "xxe": XXE.format(openid=OPENID).encode(),
        "billion laughs": LAUGHS.replace("{openid}", OPENID).encode(),
        "malformed": b"<xml><Content>unclosed</xml>",
        "not utf-8": b"<xml>\xff\xfe</xml>",
        "no fields": b"<xml><Content>hi</Content></xml>",
        "not xml at all": b"{}",
    }
    for name, body in bodies.items():
        query, _ = server.query("")
        answer = await server.post_raw(body, query)
        assert answer.status_code == 400, name
        assert "root:" not in answer.text, name
    query, _ = server.query("")
    huge = server.text("好" * 30_000).encode()
    assert (await server.post_raw(huge, query)).status_code == 413
    await follower.channel.idle()
    assert await inbox_size(backend) == 0
    assert fake.sent() == []


async def test_an_openid_never_seen_is_greeted_and_sees_nobody_else(
    follower: Follower, wechat_app: FastAPI, fake: FakeWechat
) -> None:
    said = await follower.say("我的证书")
    assert "绑定" in said or "注册" in said
    assert "2207" not in said  # no ID number of anyone
