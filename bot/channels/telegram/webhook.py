"""POST /webhooks/telegram: Telegram's deliveries, proven by the secret token set with the webhook.
The update is in the inbox before the 200 goes back; its turn and the sends follow after."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from bot.channels.telegram.channel import TelegramChannel

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 (a header name)


def telegram_router(channel: TelegramChannel, secret: str | None) -> APIRouter:
    router = APIRouter(tags=["聊天 chat"])
    expected = (secret or "").encode()

    @router.post(
        "/webhooks/telegram",
        responses={401: {"description": "the secret token is missing or wrong"}},
    )
    async def webhook(request: Request) -> Response:
        """One update from Telegram, taken in once however often it is delivered."""
        given = request.headers.get(SECRET_HEADER, "").encode()
        # no secret configured: every delivery is refused rather than any caller believed
        if not expected or not secrets.compare_digest(given, expected):
            return _error(401, "unauthorized", "密钥不对")
        try:
            data: Any = await request.json()
            int(data["update_id"])
        except (ValueError, TypeError, KeyError):
            return _error(400, "bad_update", "不是Telegram的更新")
        await channel.accept(data)
        return JSONResponse({"ok": True})

    return router


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status)
