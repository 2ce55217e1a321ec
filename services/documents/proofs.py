"""Training proofs (学时证明): 打印证书 after the hours review and the assessment passed.

The content comes from the learning service's `training_record`. A proof is issued once per review
and handed out again on every request; if its content would
change, a new proof supersedes it. A proof stands only while the review it was issued on stands:
a 学时清零 or a withdrawn review turns its verification page to 已撤销.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from rules.identity import mask_id_number
from services.context import Backend
from services.documents import learning_records
from services.documents.ecerts import china_date
from services.documents.links import new_verify_code, verify_url
from services.documents.proof_pdf import ProofContent, ProofCourse
from services.errors import AppError
from services.learning.records import TrainingRecord, training_record
from storage.models import Enrolment
from storage.models.documents import DocumentStatus, TrainingProof

STALE_REASON = "学时审核已撤销或学时清零"


@dataclass(frozen=True)
class IssuedProof:
    proof: TrainingProof
    created: bool


def _check_reviewed(enrolment: Enrolment) -> None:
    if enrolment.courses_completed_at is None:
        raise AppError(
            409,
            "courses_incomplete",
            "课程还没有全部学完。学完全部课程、考核通过并完成学时审核后，才能打印学时证明",
        )
    if enrolment.assessment_passed_at is None:
        raise AppError(
            409, "assessment_not_passed", "考核还没有通过。考核通过并完成学时审核后，才能打印学时证明"
        )
    if enrolment.reviewed_at is None:
        raise AppError(409, "not_reviewed", "学时审核还没有完成，审核通过后才能打印学时证明")


def _snapshot(record: TrainingRecord) -> dict[str, Any]:
    return {
        "holder_name": record.name,
        "id_number_masked": mask_id_number(record.id_number),
        "certificate_number": record.certificate_number,
        "position": record.position,
        "cycle_year": record.cycle_year,
        "institution": record.institution,
        "courses": [{"title": c.title, "kind": c.kind, "hours": c.hours} for c in record.courses],
        "professional_hours": float(record.professional_hours),
        "general_hours": float(record.general_hours),
        "general_exempt": record.general_exempt,
        "assessment_score": record.assessment_score,
    }


def _shows(proof: TrainingProof) -> dict[str, Any]:
    return {key: getattr(proof, key) for key in _SNAPSHOT_KEYS}


_SNAPSHOT_KEYS = (
    "holder_name",
    "id_number_masked",
    "certificate_number",
    "position",
    "cycle_year",
    "institution",
    "courses",
    "professional_hours",
    "general_hours",
    "general_exempt",
    "assessment_score",
)


async def status_of(session: AsyncSession, proof: TrainingProof) -> str:
    """The proof's status now: a valid proof whose review no longer stands counts as revoked."""
    if proof.status != DocumentStatus.VALID:
        return proof.status
    reviewed_at = await learning_records.review_of(session, proof.enrolment_id)
    cleared = await learning_records.clearance_count(session, proof.enrolment_id)
    if reviewed_at != proof.reviewed_at or cleared != proof.clearances_seen:
        return DocumentStatus.REVOKED
    return DocumentStatus.VALID


async def _issue_once(
    backend: Backend, person_id: int, certificate_number: str, cycle_year: int
) -> IssuedProof:
    now = backend.now()
    async with backend.transaction() as session:
        enrolment = await learning_records.enrolment_of(
            session, person_id=person_id, certificate_number=certificate_number, cycle_year=cycle_year
        )
        if enrolment is None:
            raise AppError(
                404,
                "enrolment_not_found",
                f"没有找到这个证书{cycle_year}年度的继续教育报名，请核对证书编号和年度",
            )
        _check_reviewed(enrolment)
        record = await training_record(session, enrolment.id, backend.settings)
        if record is None:
            raise AppError(409, "not_reviewed", "学时审核还没有完成，审核通过后才能打印学时证明")
        snapshot = _snapshot(record)
        latest = await session.scalar(
            select(TrainingProof)
            .where(TrainingProof.enrolment_id == enrolment.id)
            .order_by(TrainingProof.version.desc())
            .limit(1)
        )
        if latest is not None and latest.status == DocumentStatus.VALID:
            if await status_of(session, latest) == DocumentStatus.REVOKED:
                latest.status = DocumentStatus.REVOKED
                latest.revoked_reason = STALE_REASON
            elif _shows(latest) == snapshot:
                return IssuedProof(proof=latest, created=False)
            else:
                latest.status = DocumentStatus.SUPERSEDED
            latest.status_changed_at = now
        proof = TrainingProof(
            enrolment_id=enrolment.id,
            version=(latest.version if latest else 0) + 1,
            verify_code=new_verify_code(),
            status=DocumentStatus.VALID,
            reviewed_at=record.reviewed_at,
            clearances_seen=await learning_records.clearance_count(session, enrolment.id),
            issued_on=china_date(now),
            issued_at=now,
            **snapshot,
        )
        session.add(proof)
    return IssuedProof(proof=proof, created=True)


async def issue(backend: Backend, *, person_id: int, certificate_number: str, cycle_year: int) -> IssuedProof:
    """打印证书: the proof of the person's reviewed enrolment of that certificate and cycle."""
    try:
        return await _issue_once(backend, person_id, certificate_number, cycle_year)
    except IntegrityError:
        # Two requests issued the same version at once; the loser sees the winner's proof.
        return await _issue_once(backend, person_id, certificate_number, cycle_year)


def content_of(backend: Backend, proof: TrainingProof) -> ProofContent:
    return ProofContent(
        holder_name=proof.holder_name,
        id_number_masked=proof.id_number_masked,
        certificate_number=proof.certificate_number,
        position=proof.position,
        cycle_year=proof.cycle_year,
        courses=[ProofCourse(str(c["title"]), str(c["kind"]), float(c["hours"])) for c in proof.courses],
        professional_hours=proof.professional_hours,
        general_hours=proof.general_hours,
        general_exempt=proof.general_exempt,
        assessment_score=proof.assessment_score,
        institution=proof.institution,
        issued_on=proof.issued_on,
        verify_url=verify_url(backend.settings, proof.verify_code),
        issued_at=proof.issued_at,
    )
