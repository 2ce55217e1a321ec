"""A photo sent in chat, checked and waiting for the trainee's final 确认提交 — kept by the backend
(the management system keeps the photo for good, so it is never submitted without that yes).

The check mends what it can (size, framing, background) and keeps the mended photo as a pending
slot: a random id travels through the chat, never the bytes. The chat sees the photo again through
a signed, expiring preview URL. A pending photo belongs to its chat only and is swept after an hour.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, UploadFile
from fastapi.responses import Response
from itsdangerous import BadSignature, URLSafeSerializer
from pydantic import BaseModel, Field

from services.chatlinks.keys import ServiceBackend, bound_person, chat_id
from services.context import Backend, BackendDep
from services.errors import AppError
from services.photos import GUIDANCE, WHITE_ONLY, fix_photo_async
from services.registry.photo_slot import PHOTO_LOCKED_MESSAGE, accept_photo, photo_of

router = APIRouter(prefix="/api/assistant/photos", tags=["助手 assistant"])

MAX_AGE_SECONDS = 3600.0
PREVIEW_LIFETIME = timedelta(minutes=30)
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_OWNER = re.compile(r"^[0-9a-f]{16}$")
_SALT = "jianpei.chat.photo-preview"
ACCEPTED = "照片已上传。照片一经上传不可修改。"
GONE = "这张照片已经过期或提交过了，请重新发一张。"


class PhotoProblem(BaseModel):
    code: str
    message: str
    fixable: bool


class PhotoChecked(BaseModel):
    ok: bool
    problems: list[PhotoProblem]
    pending_id: str | None = Field(description="the photo that passes, waiting for 确认提交")
    preview_url: str | None = Field(description="a signed, expiring link to the pending photo")
    changed: bool = Field(description="the pending photo is a mended copy of the one sent")
    guidance: str


class Submitted(BaseModel):
    message: str


def _folder(backend: Backend) -> Path:
    folder = backend.settings.data_dir / "pending_photos"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _path(backend: Backend, chat: str, pending_id: str) -> Path:
    if not _ID.match(pending_id):
        raise AppError(404, "photo_gone", GONE)
    owner = hashlib.sha256(chat.encode()).hexdigest()[:16]  # another chat's id names no file of ours
    return _folder(backend) / f"{owner}-{pending_id}.photo"


def _sweep(folder: Path) -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for stale in folder.glob("*.photo"):
        try:
            if stale.stat().st_mtime < cutoff:
                stale.unlink()
        except FileNotFoundError:
            pass


def _preview_url(backend: Backend, chat: str, pending_id: str) -> str:
    expires = int((backend.now() + PREVIEW_LIFETIME).timestamp())
    owner = hashlib.sha256(chat.encode()).hexdigest()[:16]
    token = URLSafeSerializer(backend.settings.secret_key, salt=_SALT).dumps([owner, pending_id, expires])
    return f"{backend.settings.public_url.rstrip('/')}{router.prefix}/previews/{token}"


Chat = Annotated[str | None, Header(alias="X-Jianpei-Chat")]


@router.post("", response_model=PhotoChecked)
async def check(file: UploadFile, backend: ServiceBackend, x_jianpei_chat: Chat = None) -> PhotoChecked:
    """Check a photo for the management system (white background) and keep the one to submit.

    A chat bound to nobody, or a person whose photo is already on file, is told so before any
    checking: neither could ever submit it."""
    chat = chat_id(x_jianpei_chat)
    person_id = await bound_person(backend, chat)
    if await photo_of(backend, person_id) is not None:
        raise AppError(409, "photo_locked", PHOTO_LOCKED_MESSAGE)
    outcome = await fix_photo_async(await file.read(), backgrounds=WHITE_ONLY)
    problems = [
        PhotoProblem(code=p.code, message=p.message, fixable=p.fixable) for p in outcome.original.problems
    ]
    if outcome.fixed is None:
        return PhotoChecked(
            ok=False, problems=problems, pending_id=None, preview_url=None, changed=False, guidance=GUIDANCE
        )
    _sweep(_folder(backend))
    pending_id = secrets.token_urlsafe(16)
    _path(backend, chat, pending_id).write_bytes(outcome.fixed.data)
    return PhotoChecked(
        ok=outcome.original.ok,
        problems=problems,
        pending_id=pending_id,
        preview_url=_preview_url(backend, chat, pending_id),
        changed=outcome.fixed.changed,
        guidance=GUIDANCE,
    )


@router.post("/{pending_id}/submit", response_model=Submitted, status_code=201)
async def submit(pending_id: str, backend: ServiceBackend, x_jianpei_chat: Chat = None) -> Submitted:
    """The final yes: the pending photo becomes the person's one photo, and is no longer pending."""
    chat = chat_id(x_jianpei_chat)
    person_id = await bound_person(backend, chat)
    path = _path(backend, chat, pending_id)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AppError(404, "photo_gone", GONE) from None
    await accept_photo(backend, person_id=person_id, data=data)
    path.unlink(missing_ok=True)
    return Submitted(message=ACCEPTED)


@router.delete("/{pending_id}", status_code=204)
async def discard(pending_id: str, backend: ServiceBackend, x_jianpei_chat: Chat = None) -> Response:
    """A no to the warning: the pending photo is deleted at once."""
    _path(backend, chat_id(x_jianpei_chat), pending_id).unlink(missing_ok=True)
    return Response(status_code=204)


@router.get("/previews/{token}", response_class=Response, include_in_schema=False)
async def preview(token: str, backend: BackendDep) -> Response:
    """The pending photo, for the chat to show; the signed link is the only key, and it expires."""
    try:
        payload: Any = URLSafeSerializer(backend.settings.secret_key, salt=_SALT).loads(token)
        owner, pending_id, expires = str(payload[0]), str(payload[1]), int(payload[2])
    except (BadSignature, IndexError, TypeError, ValueError):
        raise AppError(404, "bad_link", "链接不对") from None
    if datetime.fromtimestamp(expires, UTC) <= backend.now():
        raise AppError(410, "link_expired", "链接已过期")
    if not (_OWNER.match(owner) and _ID.match(pending_id)):
        raise AppError(404, "bad_link", "链接不对")
    try:
        data = (_folder(backend) / f"{owner}-{pending_id}.photo").read_bytes()
    except FileNotFoundError:
        raise AppError(404, "photo_gone", GONE) from None
    kind = "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"
    return Response(data, media_type=kind, headers={"Cache-Control": "private, max-age=600"})
