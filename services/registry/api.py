"""HTTP API of the management system (管理系统). A trainee sees only their own data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, UploadFile
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.auth import PASSWORD_ADVICE, change_account_password, close_session
from services.context import Backend, BackendDep
from services.errors import AppError
from services.registry import accounts, photo_slot
from services.registry.schemas import (
    CertificateHoursOut,
    CertificateOut,
    CodeRequest,
    CodeSent,
    HoursOut,
    LoggedIn,
    LoginRequest,
    PasswordChange,
    PhotoInfo,
    Profile,
    ProfileUpdate,
    Registered,
    RegisterRequest,
)
from services.security import authenticated_person, bearer
from storage.models import Certificate, HoursRecord, Person, RegistryAccount

router = APIRouter(prefix="/api/registry", tags=["管理系统 registry"])


async def current_person_id(
    backend: BackendDep,
    authorization: Annotated[str | None, Header()] = None,
    x_jianpei_chat: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> int:
    return await authenticated_person(backend, accounts.SYSTEM, authorization, x_jianpei_chat)


PersonId = Annotated[int, Depends(current_person_id)]


@router.post("/sms-codes", status_code=202, response_model=CodeSent)
async def send_code(body: CodeRequest, backend: BackendDep) -> CodeSent:
    """Text a registration code to the phone, once the name, ID number and phone could register."""
    resend_after = await accounts.send_registration_code(
        backend, name=body.name, id_number=body.id_number, phone=body.phone
    )
    return CodeSent(message="验证码已发送，请查看手机短信", resend_after=resend_after)


@router.post("/accounts", status_code=201, response_model=Registered)
async def register(body: RegisterRequest, backend: BackendDep) -> Registered:
    """Register a personal account: real name, ID number, mobile phone and the SMS code to it."""
    await accounts.register(
        backend, name=body.name, id_number=body.id_number, phone=body.phone, code=body.code
    )
    return Registered(
        login=body.id_number.strip().upper(), must_change_password=True, message=PASSWORD_ADVICE
    )


@router.post("/sessions", response_model=LoggedIn)
async def login(body: LoginRequest, backend: BackendDep) -> LoggedIn:
    """Log in with the ID number and password; repeated failures lock the account for a while."""
    token, account = await accounts.login(backend, login_name=body.login, password=body.password)
    message = "登录成功。您还在用初始密码，请尽快修改。" if account.must_change_password else "登录成功"
    return LoggedIn(token=token, must_change_password=account.must_change_password, message=message)


@router.delete("/sessions", status_code=204)
async def logout(
    backend: BackendDep, _person: PersonId, authorization: Annotated[str | None, Header()] = None
) -> Response:
    async with backend.transaction() as session:
        await close_session(session, bearer(authorization))
    return Response(status_code=204)


@router.put("/password", status_code=204)
async def change_password(
    body: PasswordChange,
    backend: BackendDep,
    person_id: PersonId,
    authorization: Annotated[str | None, Header()] = None,
) -> Response:
    """A new password; every other login of this system ends, the one that changed it stays."""
    await change_account_password(
        backend,
        RegistryAccount,
        person_id=person_id,
        old_password=body.old_password,
        new_password=body.new_password,
        system=accounts.SYSTEM,
        keep_token=bearer(authorization),
    )
    return Response(status_code=204)


async def _profile(backend: Backend, person_id: int) -> Profile:
    async with backend.sessions() as session:
        row = (
            await session.execute(
                select(Person, RegistryAccount).join(RegistryAccount).where(Person.id == person_id)
            )
        ).one()
    person, account = row
    return Profile(
        name=person.name,
        id_number=person.id_number,
        phone=account.phone,
        employer=person.employer,
        education=person.education,
        must_change_password=account.must_change_password,
        has_photo=await photo_slot.photo_of(backend, person_id) is not None,
    )


@router.get("/me", response_model=Profile)
async def read_profile(backend: BackendDep, person_id: PersonId) -> Profile:
    return await _profile(backend, person_id)


@router.patch("/me", response_model=Profile)
async def update_profile(body: ProfileUpdate, backend: BackendDep, person_id: PersonId) -> Profile:
    """Complete the personal details (工作单位, 学历); name and ID number come from the ID card and stay."""
    changes = body.model_dump(exclude_unset=True)
    async with backend.transaction() as session:
        person = await session.get(Person, person_id)
        assert person is not None
        for key, value in changes.items():
            setattr(person, key, value.strip() if isinstance(value, str) else value)
    return await _profile(backend, person_id)


@router.put("/me/photo", status_code=201, response_model=PhotoInfo)
async def upload_photo(file: UploadFile, backend: BackendDep, person_id: PersonId) -> PhotoInfo:
    """Upload the one photo. Once accepted it cannot be changed (HTTP 409)."""
    data = await file.read()
    photo = await photo_slot.accept_photo(backend, person_id=person_id, data=data)
    return PhotoInfo(
        content_type=photo.content_type,
        size_bytes=photo.size_bytes,
        width=photo.width,
        height=photo.height,
        uploaded_at=photo.uploaded_at,
        message="照片已上传。照片一经上传不可修改。",
    )


@router.get("/me/photo")
async def download_photo(backend: BackendDep, person_id: PersonId) -> Response:
    photo = await photo_slot.photo_of(backend, person_id)
    if photo is None:
        raise AppError(404, "no_photo", "还没有上传照片")
    return Response(photo_slot.photo_bytes(backend, photo), media_type=photo.content_type)


def _hours_out(record: HoursRecord) -> HoursOut:
    return HoursOut(
        cycle_year=record.cycle_year,
        professional_hours=record.professional_hours,
        general_hours=record.general_hours,
        total_hours=record.total_hours,
        general_exempt=record.general_exempt,
        source=record.source,
        recorded_at=record.recorded_at,
    )


@router.get("/me/certificates", response_model=list[CertificateOut])
async def list_certificates(backend: BackendDep, person_id: PersonId) -> list[CertificateOut]:
    """证书管理: the certificates the provincial authority uploaded for this person."""
    async with backend.sessions() as session:
        certificates = (
            await session.scalars(
                select(Certificate)
                .where(Certificate.person_id == person_id)
                .options(selectinload(Certificate.person), selectinload(Certificate.hours_records))
                .order_by(Certificate.id)
            )
        ).all()
    return [
        CertificateOut(
            name=certificate.person.name,
            certificate_number=certificate.certificate_number,
            position=certificate.position,
            category=certificate.category,
            status=certificate.status,
            remark=certificate.remark,
            issued_on=certificate.issued_on,
            hours=[_hours_out(record) for record in certificate.hours_records],
        )
        for certificate in certificates
    ]


@router.get("/me/hours", response_model=list[CertificateHoursOut])
async def list_hours(backend: BackendDep, person_id: PersonId) -> list[CertificateHoursOut]:
    """继续教育: the recorded continuing-education hours of all the person's certificates."""
    async with backend.sessions() as session:
        records = (
            await session.scalars(
                select(HoursRecord)
                .join(Certificate)
                .options(selectinload(HoursRecord.certificate))
                .where(Certificate.person_id == person_id)
                .order_by(HoursRecord.cycle_year.desc(), HoursRecord.id)
            )
        ).all()
    return [
        CertificateHoursOut(
            certificate_number=record.certificate.certificate_number,
            position=record.certificate.position,
            **_hours_out(record).model_dump(),
        )
        for record in records
    ]
