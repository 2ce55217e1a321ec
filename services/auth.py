"""Passwords, logins and login sessions shared by both systems.

Passwords are hashed with argon2 off the event loop (hashing is deliberately slow); a login hands out
an opaque bearer token of which only the SHA-256 is stored, so a database leak reveals no session.
Both systems count wrong passwords, lock the account and answer in the same words, from here.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
import re
import secrets
from datetime import datetime, timedelta
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Select, case, delete, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from rules.help import HELPLINE
from services.context import Backend
from services.errors import AppError
from services.settings import Settings
from storage.models import AuthToken, LearningAccount, Person, RegistryAccount
from storage.types import UTCDateTime

Account = LearningAccount | RegistryAccount
AccountT = TypeVar("AccountT", LearningAccount, RegistryAccount)

# OWASP's argon2id baseline (19 MiB, 2 passes, 1 lane): strong against offline guessing while a
# 2-core server still verifies on the order of a hundred logins a second.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not-a-real-password")
# Both systems say this after registering, as the guide does.
PASSWORD_ADVICE = "注册成功，用户名为身份证号，初始密码为手机号。为防止个人信息泄露，请尽快修改为高强度密码。"  # noqa: S105 - advice text, not a password
_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Checks a password; an unknown account still costs one verification, so timing tells nothing."""

    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def check_new_password(new_password: str, *, phone: str, id_number: str) -> None:
    """A strong-enough password: 8-32 characters, letters and digits, not the phone or the ID number."""
    if not 8 <= len(new_password) <= 32:
        raise AppError(422, "weak_password", "新密码要8到32位")
    if any(ch.isspace() for ch in new_password):
        raise AppError(422, "weak_password", "新密码里不能有空格")
    if not (_LETTER.search(new_password) and _DIGIT.search(new_password)):
        raise AppError(422, "weak_password", "新密码要同时包含字母和数字")
    if phone in new_password or id_number[-8:] in new_password.upper():
        raise AppError(422, "weak_password", "新密码不能包含手机号或身份证号，请换一个别人猜不到的")


def _locked(until: datetime, now: datetime) -> AppError:
    minutes = math.ceil((until - now).total_seconds() / 60)
    return AppError(
        423,
        "account_locked",
        f"密码输错次数太多，账号已锁定，请{minutes}分钟后再试，或拨打客服电话 {HELPLINE}",
    )


async def _take_attempt(
    session: AsyncSession, model: type[AccountT], account: AccountT, *, now: datetime, settings: Settings
) -> int:
    """Count one try on an unlocked account in a single conditional UPDATE; returns the new count.

    Parallel tries queue on the row, and each sees the count the one before left, so no more than
    `max_failures` are ever let through. The try that reaches the limit locks the account there and
    then (count back to 0) — before its password is checked; a right password lifts the lock again.
    """
    reaches_limit = model.failed_logins + 1 >= settings.max_login_failures
    until = now + timedelta(minutes=settings.lockout_minutes)
    while True:
        if account.locked_until is not None and account.locked_until > now:
            raise _locked(account.locked_until, now)
        count = await session.scalar(
            update(model)
            .where(model.id == account.id, or_(model.locked_until.is_(None), model.locked_until <= now))
            .values(
                failed_logins=case((reaches_limit, 0), else_=model.failed_logins + 1),
                locked_until=case((reaches_limit, literal(until, UTCDateTime())), else_=model.locked_until),
            )
            .returning(model.failed_logins)
            .execution_options(synchronize_session=False)
        )
        if count is not None:
            return count
        # A parallel try locked the account after it was read (or a right password just unlocked it).
        await session.refresh(account, ["locked_until"])


async def check_login(backend: Backend, model: type[AccountT], *, login_name: str, password: str) -> AccountT:
    """The account of this ID number and password, its failure count started over; otherwise raises.

    The try is counted and committed before the password is verified, so guesses sent in parallel
    are each counted against the limit; the slow verification holds no transaction open. A wrong
    password then needs nothing more written; a right one clears the count and any lock.
    """
    query = select(model).join(Person).where(Person.id_number == login_name.strip().upper())
    account, count = await _count_try(backend, model, query)
    # An unknown ID number still costs one verification, so timing tells nothing.
    password_hash = None if account is None else account.password_hash
    if not await verify_password(password_hash, password) or account is None:
        raise _wrong_password(account, count, backend.settings)
    async with backend.transaction() as session:
        cleared = await session.scalar(
            update(model)
            .where(model.id == account.id)
            .values(failed_logins=0, locked_until=None)
            .returning(model)
        )
    if cleared is None:  # removed by staff while the password was being checked
        raise _wrong_password(None, 0, backend.settings)
    return cleared


async def _count_try(
    backend: Backend, model: type[AccountT], query: Select[AccountT]
) -> tuple[AccountT | None, int]:
    """The account `query` finds and its failure count after this try, committed (0 when none)."""
    async with backend.transaction() as session:
        account = await session.scalar(query)
        if account is None:
            return None, 0
        now = backend.now()
        return account, await _take_attempt(session, model, account, now=now, settings=backend.settings)


def _wrong_password(account: Account | None, count: int, settings: Settings) -> AppError:
    """What a refused password is told: no such account, tries left, or locked by this very try."""
    if account is None:
        return AppError(401, "bad_credentials", "账号或密码不对。账号是身份证号，初始密码是注册手机号")
    return _counted("账号或密码不对", count, settings)


def _counted(wrong: str, count: int, settings: Settings) -> AppError:
    """A wrong password of a known account: the tries left, or the lock this very try set."""
    if count == 0:
        minutes = settings.lockout_minutes
        return AppError(
            423,
            "account_locked",
            f"密码输错次数太多，账号已锁定{minutes}分钟，请稍后再试，或拨打客服电话 {HELPLINE}",
        )
    left = settings.max_login_failures - count
    return AppError(401, "bad_credentials", f"{wrong}，还可以再试{left}次")


async def change_account_password(
    backend: Backend,
    model: type[AccountT],
    *,
    person_id: int,
    old_password: str,
    new_password: str,
    system: str,
    keep_token: str,
) -> None:
    """Replace the password once the old one is given; every other login of the system ends.

    A wrong old password is a guess like a wrong login (a stolen session must not become a way
    round the lock-out): the try is counted atomically before the old password is checked, and the
    same limit and lock apply. A new password that `check_new_password` refuses is refused first,
    without counting, since the answer says nothing of the old one.
    """
    async with backend.sessions() as session:
        row = (
            await session.execute(
                select(model.phone, Person.id_number).join(Person).where(Person.id == person_id)
            )
        ).one_or_none()
    if row is None:
        raise AppError(404, "not_found", "账号不存在")
    if new_password == old_password:
        raise AppError(422, "weak_password", "新密码不能和原密码一样")
    check_new_password(new_password, phone=row.phone, id_number=row.id_number)
    account, count = await _count_try(backend, model, select(model).where(model.person_id == person_id))
    if account is None:
        raise AppError(404, "not_found", "账号不存在")
    if not await verify_password(account.password_hash, old_password):
        raise _counted("原密码不对", count, backend.settings)
    password_hash = await hash_password(new_password)
    async with backend.transaction() as session:
        await session.execute(
            update(model)
            .where(model.id == account.id)
            .values(
                password_hash=password_hash, must_change_password=False, failed_logins=0, locked_until=None
            )
            .execution_options(synchronize_session=False)
        )
        await close_all_sessions(session, system=system, person_id=person_id, except_token=keep_token)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_session(
    session: AsyncSession, *, system: str, person_id: int, now: datetime, lifetime: timedelta
) -> tuple[str, datetime]:
    """A new login token; the person's expired ones of this system are cleared out on the way."""
    await session.execute(
        delete(AuthToken).where(
            AuthToken.system == system, AuthToken.person_id == person_id, AuthToken.expires_at <= now
        )
    )
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        AuthToken(token_hash=_digest(token), system=system, person_id=person_id, expires_at=expires_at)
    )
    return token, expires_at


async def person_for_token(session: AsyncSession, *, system: str, token: str, now: datetime) -> int | None:
    row = await session.get(AuthToken, _digest(token))
    if row is None or row.system != system or row.expires_at <= now:
        return None
    return row.person_id


async def close_session(session: AsyncSession, token: str) -> None:
    await session.execute(delete(AuthToken).where(AuthToken.token_hash == _digest(token)))


async def close_all_sessions(
    session: AsyncSession, *, system: str, person_id: int, except_token: str | None = None
) -> None:
    """End the person's logins of one system, all but `except_token` (the caller's own, when given)."""
    query = delete(AuthToken).where(AuthToken.system == system, AuthToken.person_id == person_id)
    if except_token is not None:
        query = query.where(AuthToken.token_hash != _digest(except_token))
    await session.execute(query)
