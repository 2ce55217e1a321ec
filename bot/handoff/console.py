"""The staff console at /staff: one Chinese page (phone and desktop) and its JSON routes under
/staff/api. Every route but the page and the login answers 401 without a staff login (an HttpOnly,
SameSite=Strict cookie whose token is stored only as a hash). Live updates come over server-sent
events: the page is told that something changed and fetches again.

No `from __future__ import annotations` here: FastAPI reads the routes' annotations, which name the
login dependency built inside `console_router`."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Cookie, Depends, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, Field

from bot.handoff.accounts import LoginRefused, Staff, StaffAccounts
from bot.handoff.desk import Desk, DeskError

PAGE = Path(__file__).parent / "static" / "staff.html"
COOKIE = "jianpei_staff"
POLL_SECONDS = 2.0


TokenDep = Annotated[str | None, Cookie(alias=COOKIE)]


class Login(BaseModel):
    login: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=1, max_length=200)


class Assign(BaseModel):
    staff_id: int


class Reply(BaseModel):
    text: str = Field(max_length=2000)


class Close(BaseModel):
    note: str = Field(default="", max_length=500)


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status)


def console_router(accounts: StaffAccounts, desk: Desk, clock: Callable[[], datetime]) -> APIRouter:
    router = APIRouter(prefix="/staff", tags=["客服 staff"], include_in_schema=False)
    page = PAGE.read_text(encoding="utf-8")

    async def current_staff(token: TokenDep = None) -> Staff:
        staff = await accounts.session(token, now=clock()) if token else None
        if staff is None:
            raise HTTPException(401)
        return staff

    StaffDep = Annotated[Staff, Depends(current_staff)]

    async def guarded(work: Any) -> Any:
        try:
            return await work
        except DeskError as error:
            return _error(error.status, "refused", error.message)

    @router.get("", response_class=HTMLResponse)
    async def console_page() -> HTMLResponse:
        return HTMLResponse(
            page,
            headers={
                "Cache-Control": "no-cache",
                "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'; "
                "script-src 'self' 'unsafe-inline'; img-src 'self' blob:",
                "X-Frame-Options": "DENY",
            },
        )

    @router.post("/api/login")
    async def login(body: Login, request: Request) -> Response:
        try:
            staff, token = await accounts.login(body.login, body.password, now=clock())
        except LoginRefused as refused:
            return _error(423 if refused.locked else 401, "login_refused", refused.message)
        response = JSONResponse({"id": staff.id, "name": staff.name, "role": staff.role})
        response.set_cookie(
            COOKIE,
            token,
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
            path="/staff",
            max_age=int(accounts.lifetime.total_seconds()),
        )
        return response

    @router.post("/api/logout")
    async def logout(staff: StaffDep, token: TokenDep = None) -> Response:
        await accounts.logout(token or "", staff, now=clock())
        response = JSONResponse({"ok": True})
        response.delete_cookie(COOKIE, path="/staff")
        return response

    @router.get("/api/me")
    async def me(staff: StaffDep) -> dict[str, Any]:
        return {"id": staff.id, "name": staff.name, "role": staff.role}

    @router.get("/api/queue")
    async def queue(staff: StaffDep) -> list[dict[str, Any]]:
        return await desk.queue(staff)

    @router.get("/api/colleagues")
    async def colleagues(_staff: StaffDep) -> list[dict[str, Any]]:
        return [{"id": s.id, "name": s.name, "role": s.role} for s in await accounts.colleagues()]

    @router.get("/api/replies")
    async def replies(_staff: StaffDep) -> list[dict[str, str]]:
        return [{"key": r.key, "title": r.title, "text": r.text} for r in desk.replies]

    @router.get("/api/handoffs/{handoff_id}")
    async def detail(handoff_id: int, staff: StaffDep) -> Any:
        return await guarded(desk.detail(staff, handoff_id))

    @router.get("/api/handoffs/{handoff_id}/photos/{message_id}")
    async def photo(handoff_id: int, message_id: int, staff: StaffDep) -> Any:
        try:
            path = await desk.photo(staff, handoff_id, message_id)
        except DeskError as error:
            return _error(error.status, "refused", error.message)
        return FileResponse(path, media_type=_image_type(path), headers={"X-Content-Type-Options": "nosniff"})

    @router.post("/api/handoffs/{handoff_id}/claim")
    async def claim(handoff_id: int, staff: StaffDep) -> Any:
        return await guarded(desk.claim(staff, handoff_id)) or {"ok": True}

    @router.post("/api/handoffs/{handoff_id}/assign")
    async def assign(handoff_id: int, body: Assign, staff: StaffDep) -> Any:
        return await guarded(desk.assign(staff, handoff_id, body.staff_id)) or {"ok": True}

    @router.post("/api/handoffs/{handoff_id}/reply")
    async def reply(handoff_id: int, body: Reply, staff: StaffDep) -> Any:
        return await guarded(desk.reply(staff, handoff_id, body.text)) or {"ok": True}

    @router.post("/api/handoffs/{handoff_id}/close")
    async def close(handoff_id: int, body: Close, staff: StaffDep) -> Any:
        return await guarded(desk.close(staff, handoff_id, body.note)) or {"ok": True}

    @router.get("/api/events", response_class=StreamingResponse)
    async def events(_staff: StaffDep, token: TokenDep = None) -> Response:
        """`changed` whenever the queue or a conversation changed; ends when the login does."""

        async def stream() -> AsyncIterator[str]:
            seen: tuple[int, ...] | None = None
            async with desk.status.changes.listening() as listener:
                while await accounts.session(token or "", now=clock()) is not None:
                    listener.clear()
                    stamp = await desk.stamp()
                    yield "event: changed\ndata: {}\n\n" if stamp != seen else ": waiting\n\n"
                    seen = stamp
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(listener.wait(), POLL_SECONDS)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
        )

    return router


def _image_type(path: Path) -> str:
    head = path.read_bytes()[:8]
    if head.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG"):
        return "image/png"
    return "application/octet-stream"
