"""E-certificate renewal (换发电子证书): versions, supersession and revocation.

专业人员 use 证书更新 and 技能人员 use 查看/下载; either way the trainee gets the current version of the
certificate's e-certificate, and a new version is issued (the previous one marked superseded) only when
what it would show has changed, so pressing the button twice issues nothing new. Both need the
certificate to be 正常 and the photo to be on file. An e-certificate the operator revoked is never
replaced by the trainee alone; one whose hours were withdrawn (学时清零) counts as revoked, and a
renewal after the hours are earned again issues a new version.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from rules.help import HELPLINE
from rules.identity import mask_id_number
from rules.positions import Category
from services.context import Backend
from services.documents.ecert_pdf import ECertificateContent, YearlyHours
from services.documents.links import new_verify_code, verify_url
from services.errors import AppError
from services.registry import photo_slot
from storage.models import Certificate, HoursRecord, Photo
from storage.models.documents import DocumentStatus, ECertificate

NORMAL = "正常"
HOURS_WITHDRAWN = "证书上的继续教育学时已被清零"
YEARS_SHOWN = 3
CHINA_TIME = timezone(timedelta(hours=8), "Asia/Shanghai")


@dataclass(frozen=True)
class Issued:
    ecert: ECertificate
    created: bool


def china_date(moment: datetime) -> date:
    """The calendar day in China (UTC+8, no daylight saving), which is the day printed as issue date."""
    return moment.astimezone(CHINA_TIME).date()


async def _own_certificate(session: AsyncSession, person_id: int, certificate_number: str) -> Certificate:
    certificate = await session.scalar(
        select(Certificate)
        .where(
            Certificate.person_id == person_id, Certificate.certificate_number == certificate_number.strip()
        )
        .options(selectinload(Certificate.person), selectinload(Certificate.hours_records))
    )
    if certificate is None:
        raise AppError(404, "certificate_not_found", "没有找到这个证书，请核对证书编号")
    return certificate


def _check_eligible(certificate: Certificate, photo: Photo | None) -> None:
    if certificate.status != NORMAL:
        reason = f"（{certificate.remark}）" if certificate.remark else ""
        raise AppError(
            409,
            "certificate_not_normal",
            f"这个证书的状态是{certificate.status}{reason}，要先完成继续教育，证书恢复正常后才能换发电子证书",
        )
    if photo is None:
        raise AppError(
            409, "no_photo", "还没有上传本人照片。请先在管理系统上传近期一寸白底免冠照片，再来换发电子证书"
        )


def _record_key(record: HoursRecord) -> str:
    """Names one hours record for good: SQLite may hand a deleted row's id to the next row."""
    return f"{record.id}@{record.recorded_at.isoformat()}"


def _snapshot(certificate: Certificate, institution: str) -> dict[str, Any]:
    records: list[HoursRecord] = sorted(certificate.hours_records, key=lambda r: r.cycle_year, reverse=True)
    return {
        "holder_name": certificate.person.name,
        "id_number_masked": mask_id_number(certificate.person.id_number),
        "certificate_number": certificate.certificate_number,
        "position": certificate.position,
        "category": certificate.category,
        "institution": institution,
        # `record` ties the version to the very records it shows (see `status_of`)
        "yearly_hours": [
            {"cycle_year": record.cycle_year, "hours": record.total_hours, "record": _record_key(record)}
            for record in records[:YEARS_SHOWN]
        ],
    }


def _shows(ecert: ECertificate) -> dict[str, Any]:
    return {key: getattr(ecert, key) for key in _SNAPSHOT_KEYS}


_SNAPSHOT_KEYS = (
    "holder_name",
    "id_number_masked",
    "certificate_number",
    "position",
    "category",
    "institution",
    "yearly_hours",
)


async def _latest(session: AsyncSession, certificate_id: int) -> ECertificate | None:
    return await session.scalar(
        select(ECertificate)
        .where(ECertificate.certificate_id == certificate_id)
        .order_by(ECertificate.version.desc())
        .limit(1)
    )


async def status_of(session: AsyncSession, ecert: ECertificate) -> str:
    """The version's status now: a valid one showing hours the registry no longer has is revoked
    (hours earned again are a new record, so they renew into a new version rather than revive this)."""
    if ecert.status != DocumentStatus.VALID:
        return ecert.status
    records = await session.scalars(
        select(HoursRecord).where(HoursRecord.certificate_id == ecert.certificate_id)
    )
    recorded = {_record_key(record) for record in records}
    shown = {str(item["record"]) for item in ecert.yearly_hours}
    return DocumentStatus.VALID if shown <= recorded else DocumentStatus.REVOKED


def _revoked_by_operator() -> AppError:
    return AppError(
        409, "e_certificate_revoked", f"这个证书的电子证书已被撤销，如有疑问请拨打客服电话 {HELPLINE}"
    )


async def _ensure_current(backend: Backend, person_id: int, certificate_number: str) -> Issued:
    now = backend.now()
    async with backend.transaction() as session:
        certificate = await _own_certificate(session, person_id, certificate_number)
        photo = await session.scalar(select(Photo).where(Photo.person_id == person_id))
        _check_eligible(certificate, photo)
        latest = await _latest(session, certificate.id)
        # A stored revocation is the operator's: only a withdrawal of hours is stored in the same
        # transaction that issues the next version.
        if latest is not None and latest.status == DocumentStatus.REVOKED:
            raise _revoked_by_operator()
        snapshot = _snapshot(certificate, backend.settings.learning_institution)
        if latest is not None and await status_of(session, latest) == DocumentStatus.REVOKED:
            latest.status = DocumentStatus.REVOKED
            latest.revoked_reason = HOURS_WITHDRAWN
            latest.status_changed_at = now
        elif latest is not None and _shows(latest) == snapshot:
            return Issued(ecert=latest, created=False)
        elif latest is not None:
            latest.status = DocumentStatus.SUPERSEDED
            latest.status_changed_at = now
        ecert = ECertificate(
            certificate_id=certificate.id,
            version=(latest.version if latest else 0) + 1,
            verify_code=new_verify_code(),
            status=DocumentStatus.VALID,
            issued_on=china_date(now),
            issued_at=now,
            **snapshot,
        )
        session.add(ecert)
    return Issued(ecert=ecert, created=True)


async def _issue(backend: Backend, person_id: int, certificate_number: str) -> Issued:
    try:
        return await _ensure_current(backend, person_id, certificate_number)
    except IntegrityError:
        # Another request issued the same version first; its version is the current one now.
        return await _ensure_current(backend, person_id, certificate_number)


async def _category(backend: Backend, person_id: int, certificate_number: str) -> str:
    async with backend.sessions() as session:
        return (await _own_certificate(session, person_id, certificate_number)).category


async def renew(backend: Backend, *, person_id: int, certificate_number: str) -> Issued:
    """证书更新 of a 专业人员: the certificate is replaced by the (newest) e-certificate."""
    if await _category(backend, person_id, certificate_number) == Category.SKILLED:
        raise AppError(409, "use_view_download", "技能人员不用证书更新，请用「查看/下载」获取电子证书")
    return await _issue(backend, person_id, certificate_number)


async def view(backend: Backend, *, person_id: int, certificate_number: str) -> Issued:
    """查看/下载: a 技能人员 gets the current e-certificate; a 专业人员 the one their last 证书更新 issued."""
    if await _category(backend, person_id, certificate_number) == Category.SKILLED:
        return await _issue(backend, person_id, certificate_number)
    async with backend.sessions() as session:
        certificate = await _own_certificate(session, person_id, certificate_number)
        latest = await _latest(session, certificate.id)
        status = await status_of(session, latest) if latest is not None else None
    if latest is None:
        raise AppError(409, "not_renewed", "这个证书还没有换发电子证书，请先点「证书更新」")
    if latest.status == DocumentStatus.REVOKED:
        raise _revoked_by_operator()
    if status == DocumentStatus.REVOKED:
        raise AppError(
            409,
            "hours_withdrawn",
            f"{HOURS_WITHDRAWN}，电子证书已失效。请重新完成继续教育，再点「证书更新」",
        )
    return Issued(ecert=latest, created=False)


async def revoke(backend: Backend, *, certificate_number: str, reason: str) -> list[ECertificate]:
    """Revoke every not-yet-revoked version of a certificate's e-certificate (admin only)."""
    reason = reason.strip()
    if not reason:
        raise AppError(422, "reason_required", "请写明撤销原因")
    now = backend.now()
    async with backend.transaction() as session:
        versions = list(
            await session.scalars(
                select(ECertificate)
                .join(Certificate, Certificate.id == ECertificate.certificate_id)
                .where(Certificate.certificate_number == certificate_number.strip())
                .order_by(ECertificate.version)
            )
        )
        if not versions:
            raise AppError(404, "e_certificate_not_found", "这个证书编号还没有换发过电子证书")
        changed = [ecert for ecert in versions if ecert.status != DocumentStatus.REVOKED]
        if not changed:
            raise AppError(409, "already_revoked", "这个证书的电子证书已经撤销过了")
        for ecert in changed:
            ecert.status = DocumentStatus.REVOKED
            ecert.status_changed_at = now
            ecert.revoked_reason = reason[:200]
    return changed


async def content_of(backend: Backend, ecert: ECertificate) -> ECertificateContent:
    """What the PDF of one version shows: the stored snapshot, the photo and the verification URL."""
    async with backend.sessions() as session:
        person_id = await session.scalar(
            select(Certificate.person_id).where(Certificate.id == ecert.certificate_id)
        )
    photo = await photo_slot.photo_of(backend, person_id) if person_id is not None else None
    if photo is None:
        raise AppError(409, "no_photo", "没有找到本人照片，无法生成电子证书")
    return ECertificateContent(
        holder_name=ecert.holder_name,
        id_number_masked=ecert.id_number_masked,
        certificate_number=ecert.certificate_number,
        position=ecert.position,
        category=ecert.category,
        institution=ecert.institution,
        issued_on=ecert.issued_on,
        yearly_hours=[
            YearlyHours(int(item["cycle_year"]), float(item["hours"])) for item in ecert.yearly_hours
        ],
        version=ecert.version,
        verify_url=verify_url(backend.settings, ecert.verify_code),
        photo=photo_slot.photo_bytes(backend, photo),
        issued_at=ecert.issued_at,
    )
