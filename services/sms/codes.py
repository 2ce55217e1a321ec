"""Phone verification codes: 6 digits, valid 5 minutes, 5 tries, a new one no sooner than 60 s.

Only a keyed hash of each code is stored. A wrong try is counted even though the request fails,
so callers commit the outcome before they answer.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from rules.help import HELPLINE
from services.errors import AppError
from services.settings import Settings
from services.sms.gateway import SmsGateway
from storage.models import SmsCode
from storage.models.sms import SmsPhone


class Purpose(StrEnum):
    REGISTER_REGISTRY = "register_registry"
    REGISTER_LEARNING = "register_learning"
    BIND_CHAT = "bind_chat"


_PURPOSE_TEXT = {
    Purpose.REGISTER_REGISTRY: "管理系统注册",
    Purpose.REGISTER_LEARNING: "继续教育平台注册",
    Purpose.BIND_CHAT: "绑定建培助手",
}


class Verdict(StrEnum):
    OK = "ok"
    WRONG = "wrong"
    EXPIRED = "expired"
    EXHAUSTED = "exhausted"
    MISSING = "missing"


_VERDICT_MESSAGES = {
    Verdict.WRONG: "验证码不对，请看清短信里的6位数字再输一遍",
    Verdict.EXPIRED: "验证码已过期，请重新获取",
    Verdict.EXHAUSTED: "验证码输错次数太多，请重新获取",
    Verdict.MISSING: "请先获取验证码",
}


@dataclass(frozen=True)
class CodePolicy:
    ttl: timedelta
    max_attempts: int
    resend_after: timedelta
    daily_per_phone: int

    @classmethod
    def from_settings(cls, settings: Settings) -> CodePolicy:
        return cls(
            ttl=timedelta(seconds=settings.sms_code_ttl_seconds),
            max_attempts=settings.sms_code_max_attempts,
            resend_after=timedelta(seconds=settings.sms_resend_seconds),
            daily_per_phone=settings.sms_daily_codes_per_phone,
        )


def _code_hash(secret: str, phone: str, purpose: str, code: str) -> str:
    return hmac.new(secret.encode(), f"{phone}:{purpose}:{code}".encode(), hashlib.sha256).hexdigest()


async def _latest(session: AsyncSession, phone: str, purpose: Purpose) -> SmsCode | None:
    query = (
        select(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.purpose == purpose.value)
        .order_by(SmsCode.created_at.desc(), SmsCode.id.desc())
        .limit(1)
    )
    return (await session.scalars(query)).first()


async def _lock_phone(session: AsyncSession, phone: str, now: datetime) -> None:
    """Insert or touch the phone's `SmsPhone` row: PostgreSQL locks that row, SQLite the database."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        insert(SmsPhone)
        .values(phone=phone, last_request_at=now)
        .on_conflict_do_update(index_elements=[SmsPhone.phone], set_={"last_request_at": now})
    )


async def send_code(
    session: AsyncSession,
    gateway: SmsGateway,
    *,
    phone: str,
    purpose: Purpose,
    policy: CodePolicy,
    secret: str,
    now: datetime,
) -> datetime:
    """Send a fresh code; returns when the next one may be asked for.

    The phone's row is locked first (and kept locked until the caller commits), so requests that
    arrive together are judged one after another, each seeing the codes the ones before it sent.
    """
    await _lock_phone(session, phone, now)
    previous = await _latest(session, phone, purpose)
    if previous is not None and now < previous.created_at + policy.resend_after:
        wait = math.ceil((previous.created_at + policy.resend_after - now).total_seconds())
        raise AppError(429, "sms_too_soon", f"验证码刚发过，请{wait}秒后再获取")
    # The 60-second wait alone still lets anyone text a stranger's phone all day.
    sent_today = await session.scalar(
        select(func.count())
        .select_from(SmsCode)
        .where(SmsCode.phone == phone, SmsCode.created_at > now - timedelta(days=1))
    )
    if (sent_today or 0) >= policy.daily_per_phone:
        raise AppError(
            429,
            "sms_daily_limit",
            f"这个手机号今天获取验证码的次数太多了，请明天再试，或拨打客服电话 {HELPLINE}",
        )
    code = f"{secrets.randbelow(1_000_000):06d}"
    session.add(
        SmsCode(
            phone=phone,
            purpose=purpose.value,
            code_hash=_code_hash(secret, phone, purpose.value, code),
            created_at=now,
            expires_at=now + policy.ttl,
        )
    )
    minutes = int(policy.ttl.total_seconds() // 60)
    text = (
        f"【建培助手】您的验证码是{code}，用于{_PURPOSE_TEXT[purpose]}，{minutes}分钟内有效。请勿告诉他人。"
    )
    await gateway.send(session, phone=phone, kind=f"code:{purpose.value}", text=text, now=now)
    return now + policy.resend_after


async def check_code(
    session: AsyncSession,
    *,
    phone: str,
    purpose: Purpose,
    code: str,
    policy: CodePolicy,
    secret: str,
    now: datetime,
) -> Verdict:
    """Judge a typed code against the latest one sent; a correct code is used up.

    Every try is counted, and a right code used up, in one conditional UPDATE that lets a try through
    only while the code is unused, unexpired and has tries left: tries arriving together queue on the
    row and each sees the count the one before left, so no code is tried more than `max_attempts`
    times. The count is written in the caller's transaction, which must commit even when it refuses.
    """
    latest = await _latest(session, phone, purpose)
    if latest is None:
        return Verdict.MISSING
    right = hmac.compare_digest(latest.code_hash, _code_hash(secret, phone, purpose.value, code.strip()))
    taken = await session.scalar(
        update(SmsCode)
        .where(
            SmsCode.id == latest.id,
            SmsCode.used_at.is_(None),
            SmsCode.expires_at > now,
            SmsCode.attempts < policy.max_attempts,
        )
        .values(attempts=SmsCode.attempts + 1, used_at=now if right else None)
        .returning(SmsCode.id)
        .execution_options(synchronize_session=False)
    )
    if taken is not None:
        return Verdict.OK if right else Verdict.WRONG
    await session.refresh(latest)
    if latest.used_at is not None:
        return Verdict.MISSING
    if now >= latest.expires_at:
        return Verdict.EXPIRED
    return Verdict.EXHAUSTED


async def used_just_now(
    session: AsyncSession, *, phone: str, purpose: Purpose, code: str, secret: str, now: datetime
) -> bool:
    """Whether `code` is the phone's latest code of `purpose`, already used and not yet expired.

    The request that used it succeeded; one that arrives again with it is that request retried
    (its answer was lost to a dropped connection or a killed server) and may be told the same.
    Nothing is counted: a wrong code here is simply not a retry.
    """
    latest = await _latest(session, phone, purpose)
    return (
        latest is not None
        and latest.used_at is not None
        and now < latest.expires_at
        and hmac.compare_digest(latest.code_hash, _code_hash(secret, phone, purpose.value, code.strip()))
    )


def raise_for(verdict: Verdict) -> None:
    """Turn a failed verdict into the person's error message."""
    if verdict is not Verdict.OK:
        raise AppError(422, f"sms_code_{verdict.value}", _VERDICT_MESSAGES[verdict])
