"""Links in documents and chats: public verification URLs and signed, expiring download URLs.

A download token names a document by kind and row id and carries its expiry, signed with the
secret key; it holds nothing personal, and a plain HTTP GET with no login can fetch it. The expiry
is checked against the backend's clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from services.errors import AppError
from services.settings import Settings

_SALT = "jianpei.documents.download"
VERIFY_PATH = "/verify"
DOWNLOAD_PATH = "/downloads"


@dataclass(frozen=True)
class DownloadLink:
    url: str
    expires_at: datetime


@dataclass(frozen=True)
class DownloadRef:
    kind: str
    document_id: int


def new_verify_code() -> str:
    """128 random bits, URL-safe: nobody can guess another document's page."""
    return secrets.token_urlsafe(16)


def _base(settings: Settings) -> str:
    return settings.public_url.rstrip("/")


def verify_url(settings: Settings, code: str) -> str:
    return f"{_base(settings)}{VERIFY_PATH}/{code}"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def download_link(
    settings: Settings, *, kind: str, document_id: int, now: datetime, lifetime: timedelta
) -> DownloadLink:
    expires_at = (now + lifetime).replace(microsecond=0)
    token = _serializer(settings).dumps({"k": kind, "i": document_id, "e": int(expires_at.timestamp())})
    return DownloadLink(url=f"{_base(settings)}{DOWNLOAD_PATH}/{token}", expires_at=expires_at)


def read_download_token(settings: Settings, token: str, *, now: datetime) -> DownloadRef:
    """The document a token names, or an error a person can act on (expired links say so)."""
    try:
        payload: Any = _serializer(settings).loads(token)
        kind, document_id, expires = str(payload["k"]), int(payload["i"]), int(payload["e"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise AppError(404, "bad_link", "下载链接不对，请回到对话里重新获取") from None
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise AppError(410, "link_expired", "下载链接已过期，请回到对话里重新获取")
    return DownloadRef(kind=kind, document_id=document_id)
