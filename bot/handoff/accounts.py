"""Staff accounts of the console: argon2id passwords (verified off the event loop), a lock after
repeated wrong passwords, and login sessions of which only the token's SHA-256 is stored.

The backend's logins follow the same pattern; staff are no trainees of its systems, so the console
keeps its own accounts here rather than reaching into the backend."""

from __future__ import annotations

import asyncio
import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Insert, case, delete, insert, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import StaffAudit, StaffMember, StaffSession
from storage.types import UTCDateTime

ROLES = ("agent", "supervisor")
MAX_FAILURES = 5
LOCK_MINUTES = 15
# OWASP's argon2id baseline, as the backend's logins use.
_hasher = PasswordHasher(time_cost=2, memory_cost=19_456, parallelism=1)
_DUMMY_HASH = _hasher.hash("not-a-real-password")


@dataclass(frozen=True)
class Staff:
    id: int
    login: str
    name: str
    role: str

    @property
    def supervisor(self) -> bool:
        return self.role == "supervisor"


class LoginRefused(Exception):
    """Wrong name or password, or locked; the message is what the console shows."""

    def __init__(self, message: str, *, locked: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.locked = locked


def audit_row(
    staff_id: int | None, action: str, *, now: datetime, handoff_id: int | None = None, detail: str = ""
) -> Insert:
    """One line of the audit log: who did what to which hand-off, when."""
    return insert(StaffAudit).values(
        staff_id=staff_id, action=action, handoff_id=handoff_id, detail=detail, at=now
    )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def _verify(password_hash: str | None, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def _locked(until: datetime, now: datetime) -> LoginRefused:
    minutes = math.ceil((until - now).total_seconds() / 60)
    return LoginRefused(f"密码错误次数太多，账号已锁定，请{minutes}分钟后再试", locked=True)


class StaffAccounts:
    def __init__(self, engine: AsyncEngine, *, session_hours: float = 12.0) -> None:
        self.engine = engine
        self.lifetime = timedelta(hours=session_hours)

    async def add(self, *, login: str, name: str, role: str, password: str, now: datetime) -> Staff:
        """A new staff member; raises ValueError for a taken login, an unknown role or a weak password."""
        if role not in ROLES:
            raise ValueError(f"角色只能是 {' / '.join(ROLES)}")
        if len(password) < 10:
            raise ValueError("密码至少10位")
        password_hash = await asyncio.to_thread(_hasher.hash, password)
        async with self.engine.begin() as conn:
            if await conn.scalar(select(StaffMember.id).where(StaffMember.login == login)) is not None:
                raise ValueError(f"登录名 {login} 已经有人用了")
            staff_id = await conn.scalar(
                insert(StaffMember)
                .values(
                    login=login,
                    name=name,
                    role=role,
                    password_hash=password_hash,
                    failed_logins=0,
                    created_at=now,
                )
                .returning(StaffMember.id)
            )
        assert staff_id is not None
        return Staff(staff_id, login, name, role)

    async def _take_attempt(self, member_id: int, now: datetime) -> int:
        """Count one try in one conditional UPDATE, before the password is checked, so guesses sent
        in parallel are each counted; the try that reaches the limit locks the account."""
        reaches_limit = StaffMember.failed_logins + 1 >= MAX_FAILURES
        until = now + timedelta(minutes=LOCK_MINUTES)
        async with self.engine.begin() as conn:
            count = await conn.scalar(
                update(StaffMember)
                .where(
                    StaffMember.id == member_id,
                    or_(StaffMember.locked_until.is_(None), StaffMember.locked_until <= now),
                )
                .values(
                    failed_logins=case((reaches_limit, 0), else_=StaffMember.failed_logins + 1),
                    locked_until=case(
                        (reaches_limit, literal(until, UTCDateTime())), else_=StaffMember.locked_until
                    ),
                )
                .returning(StaffMember.failed_logins)
            )
            if count is None:
                locked_until = await conn.scalar(
                    select(StaffMember.locked_until).where(StaffMember.id == member_id)
                )
                raise _locked(locked_until or until, now)
        return count

    async def login(self, login: str, password: str, *, now: datetime) -> tuple[Staff, str]:
        """The staff member and a new session token; raises LoginRefused."""
        async with self.engine.connect() as conn:
            member = (
                await conn.execute(select(StaffMember).where(StaffMember.login == login.strip()))
            ).first()
        count = 0 if member is None else await self._take_attempt(member.id, now)
        if not await _verify(None if member is None else member.password_hash, password) or member is None:
            await self.audit(None if member is None else member.id, "login_refused", now=now)
            if member is not None and count == 0:
                raise LoginRefused(f"密码错误次数太多，账号已锁定{LOCK_MINUTES}分钟", locked=True)
            left = f"，还可以再试{MAX_FAILURES - count}次" if member is not None else ""
            raise LoginRefused(f"登录名或密码不对{left}")
        token = secrets.token_urlsafe(32)
        async with self.engine.begin() as conn:
            await conn.execute(
                update(StaffMember)
                .where(StaffMember.id == member.id)
                .values(failed_logins=0, locked_until=None)
            )
            await conn.execute(delete(StaffSession).where(StaffSession.expires_at <= now))
            await conn.execute(
                insert(StaffSession).values(
                    token_hash=_digest(token), staff_id=member.id, expires_at=now + self.lifetime
                )
            )
            await conn.execute(audit_row(member.id, "login", now=now))
        return Staff(member.id, member.login, member.name, member.role), token

    async def session(self, token: str, *, now: datetime) -> Staff | None:
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(StaffMember)
                    .join(StaffSession, StaffSession.staff_id == StaffMember.id)
                    .where(StaffSession.token_hash == _digest(token), StaffSession.expires_at > now)
                )
            ).first()
        return None if row is None else Staff(row.id, row.login, row.name, row.role)

    async def logout(self, token: str, staff: Staff, *, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(delete(StaffSession).where(StaffSession.token_hash == _digest(token)))
            await conn.execute(audit_row(staff.id, "logout", now=now))

    async def colleagues(self) -> list[Staff]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(StaffMember).order_by(StaffMember.name))
            return [Staff(r.id, r.login, r.name, r.role) for r in rows]

    async def audit(self, staff_id: int | None, action: str, *, now: datetime) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(audit_row(staff_id, action, now=now))
