"""The platform's own accounts: registration verified by an SMS code, login, password change.

Login is the ID number and the first password the phone number, as on the management system. On
login the person's certificates are pulled from the registry (same database), so a certificate the
authority uploads later shows up at the next login.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules.help import HELPLINE
from rules.identity import InvalidIdentity, normalize_phone, parse_id_number, validate_name
from services.auth import check_login, hash_password, open_session
from services.context import Backend
from services.errors import AppError
from services.sms.codes import CodePolicy, Purpose, Verdict, check_code, raise_for, send_code, used_just_now
from storage.models import Certificate, LearningAccount, LearningCertificate, Person

SYSTEM = "learning"


def _phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except InvalidIdentity as exc:
        raise AppError(422, "invalid_phone", str(exc)) from None


async def send_registration_code(backend: Backend, *, phone: str) -> datetime:
    """Text a registration code; returns when the next one may be asked for."""
    clean_phone = _phone(phone)
    async with backend.transaction() as session:
        if await session.scalar(select(LearningAccount.id).where(LearningAccount.phone == clean_phone)):
            raise _phone_taken()
        return await send_code(
            session,
            backend.sms,
            phone=clean_phone,
            purpose=Purpose.REGISTER_LEARNING,
            policy=CodePolicy.from_settings(backend.settings),
            secret=backend.settings.secret_key,
            now=backend.now(),
        )


def _phone_taken() -> AppError:
    return AppError(409, "phone_taken", "这个手机号已经注册过继续教育平台了，一个手机号只能注册一个账号")


async def register(backend: Backend, *, name: str, id_number: str, phone: str, code: str) -> LearningAccount:
    """Create the platform account once the SMS code matches; a wrong code is counted even so."""
    now = backend.now()
    try:
        clean_name = validate_name(name)
        clean_id = parse_id_number(id_number, today=now.date()).value
    except InvalidIdentity as exc:
        raise AppError(422, "invalid_identity", str(exc)) from None
    clean_phone = _phone(phone)
    password_hash = await hash_password(clean_phone)
    verdict = Verdict.OK
    try:
        async with backend.transaction() as session:
            retried = await _registered_by(
                backend, session, name=clean_name, id_number=clean_id, phone=clean_phone, code=code
            )
            if retried is not None:
                return retried
            person = await session.scalar(select(Person).where(Person.id_number == clean_id))
            if person is not None and person.name != clean_name:
                raise AppError(422, "name_mismatch", "姓名和身份证号对不上，请填写身份证上的真实姓名")
            if person is not None and await session.scalar(
                select(LearningAccount.id).where(LearningAccount.person_id == person.id)
            ):
                raise AppError(
                    409,
                    "id_number_taken",
                    f"这个身份证号已经注册过继续教育平台了，请直接登录；忘了密码请拨打客服电话 {HELPLINE}",
                )
            if await session.scalar(select(LearningAccount.id).where(LearningAccount.phone == clean_phone)):
                raise _phone_taken()
            verdict = await check_code(
                session,
                phone=clean_phone,
                purpose=Purpose.REGISTER_LEARNING,
                code=code,
                policy=CodePolicy.from_settings(backend.settings),
                secret=backend.settings.secret_key,
                now=now,
            )
            if verdict is Verdict.OK:
                if person is None:
                    person = Person(id_number=clean_id, name=clean_name, created_at=now, updated_at=now)
                    session.add(person)
                    await session.flush()
                account = LearningAccount(
                    person_id=person.id,
                    phone=clean_phone,
                    password_hash=password_hash,
                    must_change_password=True,
                    failed_logins=0,
                    created_at=now,
                    updated_at=now,
                )
                session.add(account)
    except IntegrityError:
        raise AppError(409, "already_registered", "这个身份证号或手机号已经注册过了，请直接登录") from None
    # A wrong code was counted by the committed transaction above; only now is it reported.
    raise_for(verdict)
    return account


async def _registered_by(
    backend: Backend, session: AsyncSession, *, name: str, id_number: str, phone: str, code: str
) -> LearningAccount | None:
    """The account this very registration opened, when it comes again with the code it used: its
    answer was lost (a dropped connection, a server killed after the commit), so the retry is told
    the same success instead of "already registered", and nothing is written twice."""
    account = await session.scalar(
        select(LearningAccount)
        .join(Person)
        .where(
            Person.id_number == id_number,
            Person.name == name,
            LearningAccount.phone == phone,
            LearningAccount.must_change_password.is_(True),
        )
    )
    if account is None:
        return None
    used = await used_just_now(
        session,
        phone=phone,
        purpose=Purpose.REGISTER_LEARNING,
        code=code,
        secret=backend.settings.secret_key,
        now=backend.now(),
    )
    return account if used else None


async def pull_certificates(session: AsyncSession, account: LearningAccount, *, now: datetime) -> int:
    """Bring the person's registry certificates into the account; returns how many were new."""
    known = set(
        await session.scalars(
            select(LearningCertificate.certificate_id).where(LearningCertificate.account_id == account.id)
        )
    )
    certificate_ids = await session.scalars(
        select(Certificate.id).where(Certificate.person_id == account.person_id).order_by(Certificate.id)
    )
    new = [cid for cid in certificate_ids if cid not in known]
    for certificate_id in new:
        session.add(LearningCertificate(account_id=account.id, certificate_id=certificate_id, pulled_at=now))
    account.certificates_pulled_at = now
    return len(new)


async def login(backend: Backend, *, login_name: str, password: str) -> tuple[str, LearningAccount, int]:
    """A session token for the ID number and password, the account and how many certificates were pulled."""
    account = await check_login(backend, LearningAccount, login_name=login_name, password=password)
    now = backend.now()
    async with backend.transaction() as session:
        session.add(account)
        pulled = await pull_certificates(session, account, now=now)
        token, _ = await open_session(
            session,
            system=SYSTEM,
            person_id=account.person_id,
            now=now,
            lifetime=timedelta(hours=backend.settings.session_hours),
        )
    return token, account, pulled
