"""A fake WeChat API server on 127.0.0.1 (aiohttp): the channel talks to it through
JIANPEI_WECHAT_API_BASE exactly as to api.weixin.qq.com.

It hands out access_tokens (counting the fetches, as WeChat's daily quota does), takes
customer-service messages, temporary media uploads and downloads, the custom menu and template
messages, records every call, and can be told to answer a call with an error code: 40001 (invalid
credential: the token is refused), 45047 (outside the 48-hour window), 45009 (daily quota reached).

`WechatServer` is WeChat's other side: it signs (and in safe mode encrypts) XML as WeChat pushes it
to the webhook."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

import httpx
from aiohttp import web
from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import WeChatSigner

APP_ID = "wx0123456789abcdef"
APP_SECRET = "app-secret-for-tests"
TOKEN = "token-for-tests"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters, as WeChat gives it
ACCOUNT = "gh_0123456789ab"  # the Official Account's original id

MSG_IDS = itertools.count(24_000_000_001)  # WeChat's MsgId is unique over all followers

ERRORS = {
    40001: "invalid credential, access_token is invalid or not latest",
    40007: "invalid media_id",
    45009: "reach max api daily quota limit",
    45047: "out of response count limit",
}


@dataclass
class Call:
    path: str
    token: str | None
    body: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    errcode: int = 0

    @property
    def openid(self) -> str | None:
        return self.body.get("touser")

    @property
    def msgtype(self) -> str | None:
        return self.body.get("msgtype")


class FakeWechat:
    def __init__(self, app_id: str = APP_ID, secret: str = APP_SECRET) -> None:
        self.app_id = app_id
        self.secret = secret
        self.calls: list[Call] = []
        self.token_fetches = 0
        self.valid_tokens: set[str] = set()
        self.media: dict[str, tuple[str, bytes]] = {}  # media_id -> (filename, content)
        self.menu: dict[str, Any] | None = None
        self.token_delay = 0.0  # seconds a token fetch takes (to overlap concurrent fetches)
        self._faults: dict[str, deque[int]] = {}
        self._held: dict[str, asyncio.Event] = {}
        self._ids = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.base = ""

    # -- running ------------------------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom_send)
        app.router.add_post("/cgi-bin/media/upload", self._media_upload)
        app.router.add_get("/cgi-bin/media/get", self._media_get)
        app.router.add_post("/cgi-bin/menu/create", self._menu_create)
        app.router.add_post("/cgi-bin/message/template/send", self._template_send)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.base = f"http://127.0.0.1:{port}"
        return self.base

    async def stop(self) -> None:
        for held in self._held.values():
            held.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- steering -----------------------------------------------------------------------------------

    def fail(self, path: str, errcode: int, *, times: int = 1) -> None:
        """The next `times` calls of `path` (like "message/custom/send") answer `errcode`."""
        self._faults.setdefault(path, deque()).extend([errcode] * times)

    def hold(self, path: str) -> asyncio.Event:
        """Calls of `path` wait, unanswered, until the returned event is set."""
        self._held[path] = asyncio.Event()
        return self._held[path]

    def revoke_tokens(self) -> None:
        """Every token handed out so far is refused with 40001 (another party fetched a new one)."""
        self.valid_tokens.clear()

    def put_media(self, content: bytes, filename: str = "photo.jpg") -> str:
        """A file a follower sent: WeChat keeps it as media the account may download."""
        media_id = f"media-in-{next(self._ids)}"
        self.media[media_id] = (filename, content)
        return media_id

    def sent(self, openid: str | None = None) -> list[Call]:
        """Customer-service and template messages WeChat accepted, in order."""
        return [
            c
            for c in self.calls
            if c.path in ("message/custom/send", "message/template/send")
            and c.errcode == 0
            and (openid is None or c.openid == openid)
        ]

    def texts(self, openid: str) -> list[str]:
        """What the follower reads: texts, menu messages (head, items, tail) and template contents."""
        shown = []
        for call in self.sent(openid):
            body = call.body
            if call.msgtype == "text":
                shown.append(body["text"]["content"])
            elif call.msgtype == "msgmenu":
                menu = body["msgmenu"]
                items = [item["content"] for item in menu["list"]]
                shown.append("\n".join([menu["head_content"], *items, menu.get("tail_content", "")]))
            elif call.path == "message/template/send":
                shown.append("\n".join(str(v.get("value", "")) for v in body["data"].values()))
        return shown

    async def wait_for(self, check: Any, within: float = 60) -> None:
        """Until `check()` holds, re-checked at every call the server receives."""
        async with asyncio.timeout(within), self._changed:
            await self._changed.wait_for(check)

    # -- the API ------------------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _token(self, request: web.Request) -> web.Response:
        query = request.query
        if query.get("grant_type") != "client_credential":
            return _error(40002)
        if query.get("appid") != self.app_id or query.get("secret") != self.secret:
            return _error(40125)
        self.token_fetches += 1
        if self.token_delay:
            await asyncio.sleep(self.token_delay)
        token = f"token-{self.token_fetches}-{secrets.token_hex(8)}"
        self.valid_tokens.add(token)
        await self._notify()
        return web.json_response({"access_token": token, "expires_in": 7200})

    async def _record(self, request: web.Request, path: str) -> tuple[Call, web.Response | None]:
        """The call as received, and the error to answer with (a fault, or a refused token)."""
        body: dict[str, Any] = {}
        files: dict[str, tuple[str, bytes]] = {}
        if request.content_type.startswith("multipart/"):
            for name, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[name] = (value.filename, value.file.read())
        elif request.can_read_body:
            body = json.loads(await request.read())
        call = Call(path, request.query.get("access_token"), body, files)
        self.calls.append(call)
        faults = self._faults.get(path)
        if call.token not in self.valid_tokens:
            call.errcode = 40001
        elif faults:
            call.errcode = faults.popleft()
        await self._notify()
        if path in self._held:
            await self._held[path].wait()
        return call, (_error(call.errcode) if call.errcode else None)

    async def _custom_send(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request, "message/custom/send")
        if refused is not None:
            return refused
        if call.msgtype == "image" and call.body["image"]["media_id"] not in self.media:
            call.errcode = 40007
            return _error(40007)
        return _error(0)

    async def _media_upload(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request, "media/upload")
        if refused is not None:
            return refused
        media_id = f"media-out-{next(self._ids)}"
        self.media[media_id] = call.files["media"]
        kind = request.query.get("type", "image")
        return web.json_response({"type": kind, "media_id": media_id, "created_at": int(time.time())})

    async def _media_get(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request, "media/get")
        if refused is not None:
            return refused
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            call.errcode = 40007
            return _error(40007)
        filename, content = found
        return web.Response(
            body=content,
            content_type="image/jpeg",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    async def _menu_create(self, request: web.Request) -> web.Response:
        call, refused = await self._record(request, "menu/create")
        if refused is not None:
            return refused
        self.menu = call.body
        return _error(0)

    async def _template_send(self, request: web.Request) -> web.Response:
        _call, refused = await self._record(request, "message/template/send")
        if refused is not None:
            return refused
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": next(self._ids)})


def _error(errcode: int) -> web.Response:
    """WeChat answers errors with HTTP 200 and an errcode in the JSON."""
    return web.json_response({"errcode": errcode, "errmsg": ERRORS.get(errcode, "ok" if not errcode else "")})


class WechatServer:
    """WeChat pushing a follower's messages to the webhook: the query signed with the token, the
    XML as WeChat writes it, encrypted with the AES key in safe mode."""

    def __init__(
        self, http: httpx.AsyncClient, openid: str, *, safe: bool = False, path: str = "/webhooks/wechat"
    ) -> None:
        self.http = http
        self.openid = openid
        self.safe = safe
        self.path = path
        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID)
        self._time = itertools.count(1_700_000_000)

    # -- messages -----------------------------------------------------------------------------------

    def _xml(self, kind: str, fields: dict[str, Any], *, msg_id: bool = True) -> str:
        parts = [
            f"<ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>",
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>",
            f"<CreateTime>{next(self._time)}</CreateTime>",
            f"<MsgType><![CDATA[{kind}]]></MsgType>",
            *(f"<{name}>{_value(value)}</{name}>" for name, value in fields.items()),
        ]
        if msg_id:
            parts.append(f"<MsgId>{next(MSG_IDS)}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>"

    def text(self, content: str, **extra: Any) -> str:
        return self._xml("text", {"Content": content, **extra})

    def image(self, media_id: str) -> str:
        return self._xml("image", {"PicUrl": "http://mmbiz.qpic.cn/fake", "MediaId": media_id})

    def voice(self, recognition: str | None = None) -> str:
        fields = {"MediaId": "voice-1", "Format": "amr"}
        if recognition is not None:
            fields["Recognition"] = recognition
        return self._xml("voice", fields)

    def location(self) -> str:
        return self._xml("location", {"Location_X": 43.8, "Location_Y": 126.5, "Scale": 15, "Label": "长春"})

    def event(self, event: str, key: str | None = None) -> str:
        fields: dict[str, Any] = {"Event": event}
        if key is not None:
            fields["EventKey"] = key
        return self._xml("event", fields, msg_id=False)

    # -- delivery -----------------------------------------------------------------------------------

    def query(self, body: str, *, token: str = TOKEN) -> tuple[dict[str, str], str]:
        """The query string and body WeChat would post for the XML `body`."""
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(5)
        query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}
        query["openid"] = self.openid
        if not self.safe:
            return query, body
        envelope = self.crypto.encrypt_message(body, nonce, timestamp)
        encrypted = envelope.split("<Encrypt><![CDATA[", 1)[1].split("]]>", 1)[0]
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sign(token, timestamp, nonce, encrypted)
        return query, envelope

    async def post(self, body: str, **signing: Any) -> httpx.Response:
        query, content = self.query(body, **signing)
        return await self.http.post(
            self.path, params=query, content=content.encode(), headers={"Content-Type": "text/xml"}
        )

    async def post_raw(self, content: bytes, query: dict[str, str]) -> httpx.Response:
        return await self.http.post(self.path, params=query, content=content)


def sign(*parts: str) -> str:
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def _value(value: Any) -> str:
    return escape(str(value)) if isinstance(value, int | float) else f"<![CDATA[{value}]]>"
