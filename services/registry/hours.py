"""Writing continuing-education hours into the management system (学时记录), and taking them back.

The learning platform calls these inside its own transaction, so the hours record, the
certificate's status and the platform's completion are committed together or not at all.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Certificate, HoursRecord

NORMAL = "正常"
ABNORMAL = "非正常"
MISSING_EDUCATION = "未按要求完成继续教育"
SOURCE = "继续教育平台"


async def record_hours(
    session: AsyncSession,
    *,
    certificate_id: int,
    cycle_year: int,
    professional_hours: float,
    general_hours: float,
    general_exempt: bool,
    now: datetime,
) -> HoursRecord:
    """Record the cycle's hours (replacing an earlier record of the same cycle); the certificate
    returns to 正常 and its remark is cleared."""
    certificate = await session.get(Certificate, certificate_id, with_for_update=True)
    if certificate is None:
        raise LookupError(f"certificate {certificate_id} does not exist")
    record = await session.scalar(
        select(HoursRecord).where(
            HoursRecord.certificate_id == certificate_id, HoursRecord.cycle_year == cycle_year
        )
    )
    if record is None:
        record = HoursRecord(certificate_id=certificate_id, cycle_year=cycle_year)
        session.add(record)
    record.professional_hours = professional_hours
    record.general_hours = general_hours
    record.general_exempt = general_exempt
    record.source = SOURCE
    record.recorded_at = now
    certificate.status = NORMAL
    certificate.remark = ""
    certificate.updated_at = now
    await session.flush()
    return record


async def withdraw_hours(
    session: AsyncSession, *, certificate_id: int, cycle_year: int, now: datetime
) -> bool:
    """Remove the platform's record of the cycle (学时清零); the certificate is again 非正常 with the
    guide's remark. Returns whether there was a record to remove."""
    record = await session.scalar(
        select(HoursRecord).where(
            HoursRecord.certificate_id == certificate_id,
            HoursRecord.cycle_year == cycle_year,
            HoursRecord.source == SOURCE,
        )
    )
    if record is None:
        return False
    await session.delete(record)
    certificate = await session.get(Certificate, certificate_id, with_for_update=True)
    if certificate is not None:
        certificate.status = ABNORMAL
        certificate.remark = MISSING_EDUCATION
        certificate.updated_at = now
    await session.flush()
    return True
