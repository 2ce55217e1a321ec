"""/webhooks/wechat: the server URL an Official Account is pointed at.

GET is WeChat's URL check (the signature over token, timestamp and nonce; the echostr goes back).
POST is a pushed message: the same signature, and in safe mode (an AES key is set) `msg_signature`
over the encrypted body, which is then the only form accepted — the plain signature does not cover
the body. A wrong signature is 403 and nothing is read further. The message is in the inbox before
"success" goes back, well within WeChat's 5 seconds; the answers follow as customer-service
messages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from wechatpy.crypto import WeChatCrypto

from bot.channels.wechat import xml
from bot.channels.wechat.channel import WechatChannel

PATH = "/webhooks/wechat"


def wechat_router(channel: WechatChannel, token: str, app_id: str, aes_key: str | None) -> APIRouter:
    router = APIRouter(tags=["聊天 chat"])
    crypto = WeChatCrypto(token, aes_key, app_id) if aes_key else None

    def signed(request: Request) -> bool:
        query = request.query_params
        parts = (token, query.get("timestamp", ""), query.get("nonce", ""))
        return bool(token) and xml.signed(parts, query.get("signature", ""))

    @router.get(PATH, responses={403: {"description": "the signature is wrong"}})
    async def check(request: Request) -> Response:
        """WeChat checks that the server holds the token before it sends anything."""
        if not signed(request):
            return _error(403, "bad_signature", "签名不对")
        return PlainTextResponse(request.query_params.get("echostr", ""))

    @router.post(
        PATH,
        responses={
            400: {"description": "not a WeChat message"},
            403: {"description": "the signature is wrong"},
            413: {"description": "larger than any WeChat message"},
        },
    )
    async def push(request: Request) -> Response:
        """One message from WeChat, taken in once however often it is pushed."""
        if not signed(request):
            return _error(403, "bad_signature", "签名不对")
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > xml.MAX_BYTES:
                return _error(413, "too_large", "提交的内容太大了")
        try:
            text = body.decode()
            if crypto is not None:
                query = request.query_params
                if query.get("encrypt_type") != "aes":
                    return _error(403, "bad_signature", "签名不对")
                plain = xml.decrypt(
                    crypto,
                    text,
                    token,
                    query.get("msg_signature", ""),
                    query.get("timestamp", ""),
                    query.get("nonce", ""),
                )
                if plain is None:
                    return _error(403, "bad_signature", "签名不对")
                text = plain
            await channel.accept(text)
        except (xml.BadXml, UnicodeDecodeError):
            return _error(400, "bad_message", "不是微信的消息")
        return PlainTextResponse("success")

    return router


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
