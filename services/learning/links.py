"""Signed, expiring, single-use links to the web player, for the assistant to hand to a trainee.

The ticket carries only row ids, an expiry and a random nonce, signed with the secret key; the page
exchanges it once for an ordinary login token of the platform, for the order it names. The nonce is
stored on that exchange (unique), so a forwarded or leaked link logs nobody in a second time, even
when both try at the same moment. Expiry is checked against the backend's clock.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.exc import IntegrityError

from services.auth import open_session
from services.context import Backend
from services.errors import AppError
from services.learning.accounts import SYSTEM
from services.learning.enrolment import load_enrolment
from services.settings import Settings
from storage.models.learning import PlayerLinkUse

PLAYER_PATH = "/learning/player"
LIFETIME = timedelta(minutes=30)
_SALT = "jianpei.learning.player"
USED = AppError(410, "link_used", "这个学习链接已经用过了，请回到对话里重新获取")


def _serializer(settings: Settings) -> URLSafeSerializer:
    return URLSafeSerializer(settings.secret_key, salt=_SALT)


def player_link(
    settings: Settings, *, person_id: int, enrolment_id: int, now: datetime
) -> tuple[str, datetime]:
    expires_at = (now + LIFETIME).replace(microsecond=0)
    ticket = _serializer(settings).dumps(
        {"p": person_id, "e": enrolment_id, "x": int(expires_at.timestamp()), "n": secrets.token_hex(16)}
    )
    return f"{settings.public_url.rstrip('/')}{PLAYER_PATH}?ticket={ticket}", expires_at


def read_ticket(settings: Settings, ticket: str, *, now: datetime) -> tuple[int, int, str]:
    """(person id, enrolment id, nonce) of a valid ticket, or an error the trainee can act on."""
    try:
        payload: Any = _serializer(settings).loads(ticket)
        person_id, enrolment_id, expires = int(payload["p"]), int(payload["e"]), int(payload["x"])
        nonce = str(payload["n"])
    except (BadSignature, KeyError, TypeError, ValueError):
        raise AppError(404, "bad_link", "学习链接不对，请回到对话里重新获取") from None
    if datetime.fromtimestamp(expires, UTC) <= now:
        raise AppError(410, "link_expired", "学习链接已过期，请回到对话里重新获取")
    return person_id, enrolment_id, nonce


async def redeem(backend: Backend, ticket: str) -> tuple[str, int]:
    """Trade a link's ticket, once, for a login token: (token, enrolment id)."""
    now = backend.now()
    person_id, enrolment_id, nonce = read_ticket(backend.settings, ticket, now=now)
    try:
        async with backend.transaction() as session:
            await load_enrolment(session, person_id, enrolment_id)
            # Recorded before the login is made: a second use fails here and makes nothing.
            session.add(PlayerLinkUse(nonce=nonce[:32], enrolment_id=enrolment_id, redeemed_at=now))
            await session.flush()
            token, _ = await open_session(
                session,
                system=SYSTEM,
                person_id=person_id,
                now=now,
                lifetime=timedelta(hours=backend.settings.session_hours),
            )
    except IntegrityError:
        raise USED from None
    return token, enrolment_id
