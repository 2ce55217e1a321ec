"""The management system's photo slot: one photo per person, never replaced once accepted.

Only a photo that passes the photo check is kept (see `inspect_upload`). The file is written under
the data directory before the row is committed and removed again if the commit fails, so a refused
or raced upload leaves neither a row nor a stray file.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from rules.help import HELPLINE
from services.context import Backend
from services.errors import AppError
from services.photos import WHITE_ONLY, check_photo_async
from storage.models import Photo

PHOTO_LOCKED_MESSAGE = f"照片一经上传不可修改。您已经上传过照片了，如确需更改请拨打客服电话 {HELPLINE}"
_ACCEPTED_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class AcceptedImage:
    content_type: str
    extension: str
    width: int
    height: int


async def inspect_upload(data: bytes, *, max_bytes: int) -> AcceptedImage:
    """Accept only a photo that passes the full photo check with a white background.

    The slot can never be changed, and the same photo has to serve the continuing-education
    platform too, so it takes what both systems accept: JPEG or PNG, white background, one whole,
    sharp, well-lit face in a 25:35 frame, at most 30,000 bytes (or `max_bytes`, if lower). A refusal
    lists every problem, and which ones `jianpei photo check --fix` would repair.
    """
    report = await check_photo_async(data, backgrounds=WHITE_ONLY, max_bytes=max_bytes)
    if not report.ok:
        raise AppError(
            422,
            "photo_invalid",
            "照片不合格：" + "；".join(problem.message for problem in report.problems),
            details={"problems": [problem.as_dict() for problem in report.problems]},
        )
    assert report.file_format in _ACCEPTED_FORMATS and report.width and report.height
    return AcceptedImage(
        content_type=_ACCEPTED_FORMATS[report.file_format],
        extension="jpg" if report.file_format == "JPEG" else "png",
        width=report.width,
        height=report.height,
    )


def photo_dir(backend: Backend) -> Path:
    return backend.settings.data_dir / "photos"


async def accept_photo(backend: Backend, *, person_id: int, data: bytes) -> Photo:
    """Keep the person's photo; a second upload is refused with HTTP 409."""
    # The lock is told first: whatever the new file is like, the kept photo stays.
    async with backend.sessions() as session:
        if await session.scalar(select(Photo.id).where(Photo.person_id == person_id)):
            raise AppError(409, "photo_locked", PHOTO_LOCKED_MESSAGE)
    image = await inspect_upload(data, max_bytes=backend.settings.registry_photo_max_bytes)

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
