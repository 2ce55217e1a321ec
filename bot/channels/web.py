"""The web chat at `/`: one phone-sized Chinese page that talks to the REST channel."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

PAGE = Path(__file__).parent / "static" / "chat.html"


def web_router() -> APIRouter:
    router = APIRouter(tags=["聊天 chat"])
    page = PAGE.read_text(encoding="utf-8")

    @router.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def chat_page() -> HTMLResponse:
        return HTMLResponse(page, headers={"Cache-Control": "no-cache"})

    return router
