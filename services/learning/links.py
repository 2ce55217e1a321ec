"""Signed, expiring links to the web player, for the assistant to hand to a trainee.

The ticket carries only row ids and an expiry, signed with the secret key; the page exchanges it
for an ordinary login token of the platform. Expiry is checked against the backend's clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from services.errors import AppError
from services.settings import Settings

PLAYER_PATH = "/learning/player"
LIFETIME = timedelta(minutes=30)
_SALT = "jianpei.learning.player"


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def player_link(
    settings: Settings, *, person_id: int, enrolment_id: int, now: datetime
) -> tuple[str, datetime]:
    expires_at = (now + LIFETIME).replace(microsecond=0)
    ticket = _serializer(settings).dumps(
        {"p": person_id, "e": enrolment_id, "x": int(expires_at.timestamp())}
    )
    return f"{settings.public_url.rstrip('/')}{PLAYER_PATH}?ticket={ticket}", expires_at


def read_ticket(settings: Settings, ticket: str, *, now: datetime) -> tuple[int, int]:
    """(person id, enrolment id) of a valid ticket, or an error the trainee can act on."""
    try:
        payload: Any = _serializer(settings).loads(ticket)
        person_id, enrolment_id, expires = int(payload["p"]), int(payload["e"]), int(payload["x"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise AppError(404, "bad_link", "学习链接不对，请回到对话里重新获取") from None
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise AppError(410, "link_expired", "学习链接已过期，请回到对话里重新获取")
    return person_id, enrolment_id
