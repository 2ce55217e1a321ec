"""The WeChat API calls the channel makes, over httpx (wechatpy's client is synchronous `requests`
and keeps its token per process), with the one access_token all workers share.

WeChat counts every token fetch against a daily quota and a new token ends the previous one after a
few minutes, so the token lives in the database: one worker fetches it (the others wait for its
row), and a call answered "invalid credential" marks that token stale and is made once more."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import WechatToken

log = structlog.get_logger(__name__)

INVALID_CREDENTIAL = frozenset({40001, 40014, 42001})  # refused, malformed or expired token
OUT_OF_WINDOW = 45047  # more than 48 hours since the follower last wrote (or too many replies)
NOT_FOLLOWING = 43004  # the user unfollowed
QUOTA = 45009
EARLY = timedelta(minutes=5)  # a token is renewed this long before WeChat would end it
REFRESH_LEASE = timedelta(seconds=30)
WAIT_STEP = 0.05  # seconds between looks at the row while another worker fetches


class WechatError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code} {message}")
        self.code = code


class Tokens:
    def __init__(
        self,
        http: httpx.AsyncClient,
        app_id: str,
        secret: str,
        sessions: async_sessionmaker[AsyncSession],
        clock: Callable[[], datetime],
    ) -> None:
        self.http = http
        self.app_id = app_id
        self.secret = secret
        self.sessions = sessions
        self.clock = clock
        self._lock = asyncio.Lock()  # one fetch per process; the row's lease makes it one overall
        self._token: str | None = None
        self._expires: datetime | None = None

    async def get(self) -> str:
        if self._token is not None and self._expires is not None and self._fresh(self._expires):
            return self._token
        async with self._lock:
            while True:
                row = await self._row()
                if row.access_token and row.expires_at and self._fresh(row.expires_at):
                    self._token, self._expires = row.access_token, row.expires_at
                    return row.access_token
                if await self._claim():
                    return await self._fetch()
                await asyncio.sleep(WAIT_STEP)  # another worker is fetching it

    async def stale(self, token: str) -> None:
        """WeChat refused `token`: the next `get` fetches a new one (unless someone already did)."""
        if self._token == token:
            self._token = None
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WechatToken)
                .where(WechatToken.app_id == self.app_id, WechatToken.access_token == token)
                .values(expires_at=self.clock())
            )

    def _fresh(self, expires: datetime) -> bool:
        return expires - EARLY > self.clock()

    async def _row(self) -> WechatToken:
        async with self.sessions() as session:
            row = await session.get(WechatToken, self.app_id)
            if row is not None:
                return row
        try:
            async with self.sessions() as session, session.begin():
                session.add(WechatToken(app_id=self.app_id))
        except IntegrityError:
            pass  # another worker made the row at the same moment
        return WechatToken(app_id=self.app_id)

    async def _claim(self) -> bool:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            result = await session.execute(
                update(WechatToken)
                .where(
                    WechatToken.app_id == self.app_id,
                    or_(WechatToken.refreshing_until.is_(None), WechatToken.refreshing_until < now),
                    # not when another worker stored a fresh one since this one looked
                    or_(WechatToken.expires_at.is_(None), WechatToken.expires_at <= now + EARLY),
                )
                .values(refreshing_until=now + REFRESH_LEASE)
            )
        return bool(getattr(result, "rowcount", 0))

    async def _fetch(self) -> str:
        try:
            response = await self.http.get(
                "/cgi-bin/token",
                params={"grant_type": "client_credential", "appid": self.app_id, "secret": self.secret},
            )
            data = response.json()
            if "access_token" not in data:
                raise WechatError(int(data.get("errcode", -1)), str(data.get("errmsg", "")))
        except BaseException:
            await self._release()
            raise
        expires = self.clock() + timedelta(seconds=int(data.get("expires_in", 7200)))
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WechatToken)
                .where(WechatToken.app_id == self.app_id)
                .values(access_token=data["access_token"], expires_at=expires, refreshing_until=None)
            )
        log.info("wechat_token_fetched")
        self._token, self._expires = data["access_token"], expires
        return str(data["access_token"])

    async def _release(self) -> None:
        async with self.sessions() as session, session.begin():
            await session.execute(
                update(WechatToken).where(WechatToken.app_id == self.app_id).values(refreshing_until=None)
            )


class WechatApi:
    """The calls the channel makes; each raises WechatError with WeChat's errcode when refused."""

    def __init__(self, http: httpx.AsyncClient, tokens: Tokens) -> None:
        self.http = http
        self.tokens = tokens

    async def send(self, message: dict[str, Any]) -> str | None:
        """A customer-service message (客服消息) to `message["touser"]`; its msgid where WeChat
        answers one (it does for templates, not for customer-service messages)."""
        return _msgid(await self._call("POST", "/cgi-bin/message/custom/send", json=message))

    async def send_template(self, message: dict[str, Any]) -> str | None:
        return _msgid(await self._call("POST", "/cgi-bin/message/template/send", json=message))

    async def create_menu(self, menu: dict[str, Any]) -> None:
        await self._call("POST", "/cgi-bin/menu/create", json=menu)

    async def upload_image(self, filename: str, content: bytes, content_type: str) -> str:
        """Temporary media (kept by WeChat for three days); its media_id."""
        files = {"media": (filename, content, content_type)}
        data = await self._call("POST", "/cgi-bin/media/upload", params={"type": "image"}, files=files)
        return str(data["media_id"])

    async def download(self, media_id: str) -> bytes:
        response = await self._request("GET", "/cgi-bin/media/get", params={"media_id": media_id})
        return response.content

    async def _call(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        data: dict[str, Any] = (await self._request(method, path, **kwargs)).json()
        return data

    async def _request(
        self, method: str, path: str, *, params: dict[str, str] | None = None, **kwargs: Any
    ) -> httpx.Response:
        token = await self.tokens.get()
        response = await self.http.request(
            method, path, params={**(params or {}), "access_token": token}, **kwargs
        )
        code, message = _errcode(response)
        if code in INVALID_CREDENTIAL:
            log.warning("wechat_token_refused", errcode=code)
            await self.tokens.stale(token)
            token = await self.tokens.get()
            response = await self.http.request(
                method, path, params={**(params or {}), "access_token": token}, **kwargs
            )
            code, message = _errcode(response)
        if code:
            raise WechatError(code, message)
        response.raise_for_status()
        return response


def _msgid(data: dict[str, Any]) -> str | None:
    found = data.get("msgid")
    return None if found is None else str(found)


def _errcode(response: httpx.Response) -> tuple[int, str]:
    """WeChat answers errors with HTTP 200 and `{"errcode", "errmsg"}`; a file comes as itself."""
    if not response.headers.get("content-type", "").startswith(("application/json", "text/plain")):
        return 0, ""
    data = response.json()
    return int(data.get("errcode") or 0), str(data.get("errmsg") or "")
