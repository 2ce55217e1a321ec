"""Registering, logging in and changing the password of a management-system account.

Login is the ID number; the first password is the registered phone number and must be changed.
Repeated wrong passwords lock the account for a while; the count is committed even when the
login fails, so a locked account stays locked.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.auth import check_login, hash_password, open_session
from services.context import Backend
from services.errors import HELPLINE, AppError
from services.identity import InvalidIdentity, normalize_phone, parse_id_number, validate_name
from storage.models import Person, RegistryAccount

SYSTEM = "registry"


def _invalid(code: str, exc: InvalidIdentity) -> AppError:
    return AppError(422, code, str(exc))


async def register(backend: Backend, *, name: str, id_number: str, phone: str) -> RegistryAccount:
    """Create the account; the person may already exist from the authority's certificate upload."""
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
    password_hash = await hash_password(clean_phone)

    try:
        async with backend.transaction() as session:
            person = await session.scalar(select(Person).where(Person.id_number == clean_id))
            if person is None:
                person = Person(id_number=clean_id, name=clean_name)
                session.add(person)
                await session.flush()
            elif person.name != clean_name:
                raise AppError(422, "name_mismatch", "姓名和身份证号对不上，请填写身份证上的真实姓名")
            if await session.scalar(select(RegistryAccount.id).where(RegistryAccount.person_id == person.id)):
                raise _id_taken()
            if await session.scalar(select(RegistryAccount.id).where(RegistryAccount.phone == clean_phone)):
                raise _phone_taken()
            account = RegistryAccount(
                person_id=person.id, phone=clean_phone, password_hash=password_hash, must_change_password=True
            )
            session.add(account)
    except IntegrityError:
        # Two registrations raced past the checks above; the unique constraints decided.
        raise AppError(409, "already_registered", "这个身份证号或手机号已经注册过了，请直接登录") from None
    return account


def _id_taken() -> AppError:
    return AppError(
        409, "id_number_taken", f"这个身份证号已经注册过了，请直接登录；忘了密码请拨打客服电话 {HELPLINE}"
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
