"""The management system's photo slot: one photo per person, never replaced once accepted.

The file is written under the data directory before the row is committed and removed again if the
commit fails, so a refused or raced upload leaves neither a row nor a stray file.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.context import Backend
from services.errors import AppError
from storage.models import Photo

PHOTO_LOCKED_MESSAGE = "照片一经上传不可修改。您已经上传过照片了，如确需更改请拨打客服电话 4009999355"
_ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class AcceptedImage:
    content_type: str
    extension: str
    width: int
    height: int


def inspect_upload(data: bytes, *, max_bytes: int) -> AcceptedImage:
    """Accept a JPEG or PNG of at most `max_bytes`; refuse anything else in plain words."""
    if not data:
        raise AppError(422, "photo_empty", "照片文件是空的，请重新选择照片")
    if len(data) > max_bytes:
        raise AppError(
            422, "photo_too_large", f"照片不能超过{max_bytes // 1024}KB，当前是{len(data) // 1024}KB"
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
            image_format = image.format or ""
            width, height = image.size
    except (UnidentifiedImageError, OSError, SyntaxError, Image.DecompressionBombError):
        raise AppError(422, "photo_unreadable", "这个文件打不开，不是一张完整的照片，请重新拍一张") from None
    if image_format not in _ACCEPTED_FORMATS:
        raise AppError(422, "photo_format", "照片只能是 JPG 或 PNG 格式")
    return AcceptedImage(
        content_type=_ACCEPTED_FORMATS[image_format],
        extension="jpg" if image_format == "JPEG" else "png",
        width=width,
        height=height,
    )


def photo_dir(backend: Backend) -> Path:
    return backend.settings.data_dir / "photos"


async def accept_photo(backend: Backend, *, person_id: int, data: bytes) -> Photo:
    """Keep the person's photo; a second upload is refused with HTTP 409."""
    image = inspect_upload(data, max_bytes=backend.settings.registry_photo_max_bytes)
    async with backend.sessions() as session:
        if await session.scalar(select(Photo.id).where(Photo.person_id == person_id)):
            raise AppError(409, "photo_locked", PHOTO_LOCKED_MESSAGE)

    digest = hashlib.sha256(data).hexdigest()
    folder = photo_dir(backend)
    folder.mkdir(parents=True, exist_ok=True)
    # A random part keeps two racing uploads from sharing, and then deleting, one file.
    path = folder / f"{person_id}-{digest[:16]}-{secrets.token_hex(4)}.{image.extension}"
    path.write_bytes(data)
    photo = Photo(
        person_id=person_id,
        path=path.name,
        sha256=digest,
        content_type=image.content_type,
        size_bytes=len(data),
        width=image.width,
        height=image.height,
        uploaded_at=backend.now(),
    )
    try:
        async with backend.transaction() as session:
            session.add(photo)
    except IntegrityError:
        path.unlink(missing_ok=True)
        raise AppError(409, "photo_locked", PHOTO_LOCKED_MESSAGE) from None
    return photo


async def photo_of(backend: Backend, person_id: int) -> Photo | None:
    async with backend.sessions() as session:
        return await session.scalar(select(Photo).where(Photo.person_id == person_id))


def photo_bytes(backend: Backend, photo: Photo) -> bytes:
    return (photo_dir(backend) / photo.path).read_bytes()
