"""The web player page (/learning/player), its static files and the course media.

The page is public; it logs in with a signed player link's ticket or the trainee's password.
Media are public course content served from the data folder, with range requests for seeking.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse

from services.context import Backend, get_backend
from services.errors import AppError
from services.learning.catalog import media_dir, media_type

router = APIRouter(tags=["继续教育平台 player"], include_in_schema=False)

STATIC_DIR = Path(__file__).parent / "static"
_STATIC_TYPES = {
    "player.js": "text/javascript; charset=utf-8",
    "player.css": "text/css; charset=utf-8",
}
_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/learning/player")
async def player_page() -> FileResponse:
    return FileResponse(STATIC_DIR / "player.html", media_type="text/html; charset=utf-8", headers=_NO_STORE)


@router.get("/learning/static/{name}")
async def player_static(name: str) -> FileResponse:
    if name not in _STATIC_TYPES:
        raise AppError(404, "not_found", "没有找到要访问的内容")
    return FileResponse(STATIC_DIR / name, media_type=_STATIC_TYPES[name], headers=_NO_STORE)


@router.get("/learning/media/{name}")
async def course_media(name: str, backend: Annotated[Backend, Depends(get_backend)]) -> FileResponse:
    folder = media_dir(backend.settings).resolve()
    path = (folder / name).resolve()
    if path.parent != folder or not path.is_file():
        raise AppError(404, "media_not_found", "课程视频不存在，请联系客服")
    return FileResponse(path, media_type=media_type(name))
