"""Registering, logging in and changing the password of a management-system account.

Login is the ID number; the first password is the registered phone number and must be changed.
Registration needs the SMS code texted to that phone: a name and an ID number alone no longer take
a worker's account, and whoever registers has proved a phone that staff can trace. Should someone
else still hold it, staff reset it after checking identity (`services.registry.reset`).
A registration retried with the code it used (its answer lost) is told the same success again.
Repeated wrong passwords lock the account for a while; the count is committed even when the
login fails, so a locked account stays locked.
"""

from __future__ import annotations

from dataclasses import dataclass
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
from storage.models import Person, RegistryAccount

SYSTEM = "registry"


def _invalid(code: str, exc: InvalidIdentity) -> AppError:
    return AppError(422, code, str(exc))


@dataclass(frozen=True)
class Applicant:
    """What a registration states, checked and normalised."""

    name: str
    id_number: str
    phone: str


def _applicant(backend: Backend, *, name: str, id_number: str, phone: str) -> Applicant:
    try:
        clean_name = validate_name(name)
    except InvalidIdentity as exc:
        raise _invalid("invalid_name", exc) from None
    try:
        clean_id = parse_id_number(id_number, today=backend.now().date()).value
    except InvalidIdentity as exc:
        raise _invalid("invalid_id_number", exc) from None
    try:
        clean_phone = normalize_phone(phone)
    except InvalidIdentity as exc:
        raise _invalid("invalid_phone", exc) from None
    return Applicant(clean_name, clean_id, clean_phone)


async def _still_free(session: AsyncSession, applicant: Applicant) -> Person | None:
    """The person the authority may already know; refuses a wrong name, a taken ID number or phone."""
    person = await session.scalar(select(Person).where(Person.id_number == applicant.id_number))
    if person is not None and person.name != applicant.name:
        raise AppError(422, "name_mismatch", "姓名和身份证号对不上，请填写身份证上的真实姓名")
    if person is not None and await session.scalar(
        select(RegistryAccount.id).where(RegistryAccount.person_id == person.id)
    ):
        raise _id_taken()
    if await session.scalar(select(RegistryAccount.id).where(RegistryAccount.phone == applicant.phone)):
        raise _phone_taken()
    return person


async def send_registration_code(backend: Backend, *, name: str, id_number: str, phone: str) -> datetime:
    """Text the registration code; returns when the next one may be asked for.

    The details are checked first, so no code is texted for a registration that would be refused.
    """
    applicant = _applicant(backend, name=name, id_number=id_number, phone=phone)
    async with backend.transaction() as session:
        await _still_free(session, applicant)
        return await send_code(
            session,
            backend.sms,
            phone=applicant.phone,
            purpose=Purpose.REGISTER_REGISTRY,
            policy=CodePolicy.from_settings(backend.settings),
            secret=backend.settings.secret_key,
            now=backend.now(),
        )


async def register(backend: Backend, *, name: str, id_number: str, phone: str, code: str) -> RegistryAccount:
    """Create the account once the SMS code to the phone matches; the person may already exist from
    the authority's certificate upload. A wrong code is counted, and nothing else is stored."""
    return await _open(backend, _applicant(backend, name=name, id_number=id_number, phone=phone), code=code)


async def open_demo_account(backend: Backend, *, name: str, id_number: str, phone: str) -> RegistryAccount:
    """The demo cohort's account, without the SMS step: its fictional phones belong to nobody."""
    return await _open(backend, _applicant(backend, name=name, id_number=id_number, phone=phone), code=None)


async def _open(backend: Backend, applicant: Applicant, *, code: str | None) -> RegistryAccount:
    password_hash = await hash_password(applicant.phone)
    now = backend.now()
    verdict = Verdict.OK
    try:
        async with backend.transaction() as session:
            if code is not None and (retried := await _registered_by(backend, session, applicant, code)):
                return retried
            person = await _still_free(session, applicant)
            if code is not None:
                verdict = await check_code(
                    session,
                    phone=applicant.phone,
                    purpose=Purpose.REGISTER_REGISTRY,
                    code=code,
                    policy=CodePolicy.from_settings(backend.settings),
                    secret=backend.settings.secret_key,
                    now=now,
                )
            if verdict is Verdict.OK:
                if person is None:
                    person = Person(id_number=applicant.id_number, name=applicant.name)
                    session.add(person)
                    await session.flush()
                account = RegistryAccount(
                    person_id=person.id,
                    phone=applicant.phone,
                    password_hash=password_hash,
                    must_change_password=True,
                )
                session.add(account)
    except IntegrityError:
        # Two registrations raced past the checks above; the unique constraints decided.
        raise AppError(409, "already_registered", "这个身份证号或手机号已经注册过了，请直接登录") from None
    # A wrong code was counted by the committed transaction above; only now is it reported.
    raise_for(verdict)
    return account


async def _registered_by(
    backend: Backend, session: AsyncSession, applicant: Applicant, code: str
) -> RegistryAccount | None:
    """The account this very registration opened, when it comes again with the code it used.

    Its answer was lost (a dropped connection, a server killed after the commit): the retry is told
    the same success instead of "already registered", and nothing is written twice.
    """
    account = await session.scalar(
        select(RegistryAccount)
        .join(Person)
        .where(
            Person.id_number == applicant.id_number,
            Person.name == applicant.name,
            RegistryAccount.phone == applicant.phone,
            RegistryAccount.must_change_password.is_(True),
        )
    )
    if account is None:
        return None
    used = await used_just_now(
        session,
        phone=applicant.phone,
        purpose=Purpose.REGISTER_REGISTRY,
        code=code,
        secret=backend.settings.secret_key,
        now=backend.now(),
    )
    return account if used else None


def _id_taken() -> AppError:
    return AppError(
        409,
        "id_number_taken",
        f"这个身份证号已经注册过了，请直接登录；忘了密码或不是您本人注册的，请拨打客服电话 {HELPLINE}",
    )


def _phone_taken() -> AppError:
    return AppError(409, "phone_taken", "这个手机号已经注册过账号了，一个手机号只能注册一个账号")


async def login(backend: Backend, *, login_name: str, password: str) -> tuple[str, RegistryAccount]:
    """Open a session for the ID number and password; a wrong password is counted (`check_login`)."""
    account = await check_login(backend, RegistryAccount, login_name=login_name, password=password)
    async with backend.transaction() as session:
        token, _ = await open_session(
            session,
            system=SYSTEM,
            person_id=account.person_id,
            now=backend.now(),
            lifetime=timedelta(hours=backend.settings.session_hours),
        )
    return token, account
