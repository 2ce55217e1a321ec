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

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.errors import HELPLINE, AppError
from services.settings import Settings
from services.sms.gateway import SmsGateway
from storage.models import SmsCode


class Purpose(StrEnum):
    REGISTER_LEARNING = "register_learning"
    BIND_CHAT = "bind_chat"


_PURPOSE_TEXT = {
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
    """Send a fresh code; returns when the next one may be asked for."""
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
    """Judge a typed code against the latest one sent; a correct code is used up."""
    latest = await _latest(session, phone, purpose)
    if latest is None or latest.used_at is not None:
        return Verdict.MISSING
    if now >= latest.expires_at:
        return Verdict.EXPIRED
    if latest.attempts >= policy.max_attempts:
        return Verdict.EXHAUSTED
    expected = latest.code_hash
    if not hmac.compare_digest(expected, _code_hash(secret, phone, purpose.value, code.strip())):
        latest.attempts += 1
        return Verdict.WRONG
    latest.used_at = now
    return Verdict.OK


def raise_for(verdict: Verdict) -> None:
    """Turn a failed verdict into the person's error message."""
    if verdict is not Verdict.OK:
        raise AppError(422, f"sms_code_{verdict.value}", _VERDICT_MESSAGES[verdict])
