"""HTTP routes of the documents part.

- `/api/documents/me/...`: the logged-in trainee renews or downloads their e-certificate (管理系统
  bearer token) or gets their training proof (继续教育平台 token, or the 管理系统 one), as signed links;
- `/downloads/{token}`: the PDF itself, for anyone holding an unexpired signed link (no login);
- `/verify/{code}`: the public verification page of a QR code, `/api/documents/verify/{code}` as JSON;
- `/api/admin/documents/...`: revocation, with the admin token.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header
from fastapi.responses import HTMLResponse, Response

from services.context import Backend, BackendDep
from services.documents import ecerts, proofs
from services.documents.config import get_document_settings
from services.documents.ecert_pdf import render_e_certificate
from services.documents.links import DownloadLink, download_link, read_download_token, verify_url
from services.documents.proof_pdf import render_training_proof
from services.documents.schemas import ECertificateOut, ProofOut, RevocationIn, RevocationOut, VerifiedOut
from services.documents.verification import STATUS_WORDS, look_up, not_found_page, page
from services.errors import ERROR_RESPONSES, AppError
from services.learning.accounts import SYSTEM as LEARNING
from services.registry.accounts import SYSTEM as REGISTRY
from services.security import authenticated_person, require_admin
from storage.models.documents import DocumentStatus, ECertificate, TrainingProof

ECERT = "ecert"
PROOF = "proof"
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

# Plain strings: an unknown or malformed number is simply not found, with a Chinese message.
CertificateNumber = str


ChatHeader = Annotated[str | None, Header(include_in_schema=False)]


async def registry_person(
    backend: BackendDep,
    authorization: Annotated[str | None, Header()] = None,
    x_jianpei_chat: ChatHeader = None,
) -> int:
    return await authenticated_person(backend, REGISTRY, authorization, x_jianpei_chat)


RegistryPerson = Annotated[int, Depends(registry_person)]


async def either_person(
    backend: BackendDep,
    authorization: Annotated[str | None, Header()] = None,
    x_jianpei_chat: ChatHeader = None,
) -> int:
    """A 继续教育平台 token (where 打印证书 lives) or a 管理系统 token of the same person."""
    try:
        return await authenticated_person(backend, LEARNING, authorization, x_jianpei_chat)
    except AppError:
        return await authenticated_person(backend, REGISTRY, authorization, x_jianpei_chat)


EitherPerson = Annotated[int, Depends(either_person)]


def _link(backend: Backend, kind: str, document_id: int) -> DownloadLink:
    hours = get_document_settings().download_link_hours
    return download_link(
        backend.settings,
        kind=kind,
        document_id=document_id,
        now=backend.now(),
        lifetime=timedelta(hours=hours),
    )


def _ecert_out(backend: Backend, issued: ecerts.Issued, message: str) -> ECertificateOut:
    ecert = issued.ecert
    link = _link(backend, ECERT, ecert.id)
    return ECertificateOut(
        certificate_number=ecert.certificate_number,
        position=ecert.position,
        category=ecert.category,
        version=ecert.version,
        status=STATUS_WORDS[ecert.status],
        issued_on=ecert.issued_on,
        renewed=issued.created,
        verify_url=verify_url(backend.settings, ecert.verify_code),
        download_url=link.url,
        download_expires_at=link.expires_at,
        message=message,
    )


def _link_hint() -> str:
    return f"点链接下载，{get_document_settings().download_link_hours}小时内有效。"


trainee = APIRouter(prefix="/api/documents", tags=["证书与证明 documents"])


@trainee.post("/me/certificates/{certificate_number}/renewal", response_model=ECertificateOut)
async def renew_certificate(
    certificate_number: CertificateNumber, backend: BackendDep, person_id: RegistryPerson
) -> ECertificateOut:
    """证书更新 (专业人员): replace the certificate with the newest e-certificate."""
    issued = await ecerts.renew(backend, person_id=person_id, certificate_number=certificate_number)
    version = issued.ecert.version
    message = (
        f"证书更新成功，已换发电子培训合格证（第{version}版）。"
        if issued.created
        else f"您的电子培训合格证已是最新（第{version}版），不用再更新。"
    )
    return _ecert_out(backend, issued, message + _link_hint())


@trainee.post("/me/certificates/{certificate_number}/e-certificate", response_model=ECertificateOut)
async def view_certificate(
    certificate_number: CertificateNumber, backend: BackendDep, person_id: RegistryPerson
) -> ECertificateOut:
    """查看/下载: the current e-certificate (技能人员 get it issued here; 专业人员 after 证书更新)."""
    issued = await ecerts.view(backend, person_id=person_id, certificate_number=certificate_number)
    return _ecert_out(
        backend, issued, f"这是您的电子培训合格证（第{issued.ecert.version}版）。" + _link_hint()
    )


def _year(raw: str) -> int:
    if not (raw.isascii() and raw.isdigit() and len(raw) == 4):
        raise AppError(422, "invalid_year", "年度请写四位数字的年份，比如2026")
    return int(raw)


@trainee.post("/me/certificates/{certificate_number}/training-proofs/{cycle_year}", response_model=ProofOut)
async def training_proof(
    certificate_number: CertificateNumber,
    cycle_year: str,
    backend: BackendDep,
    person_id: EitherPerson,
) -> ProofOut:
    """打印证书: the training proof of a cycle, once the hours review and the assessment passed."""
    issued = await proofs.issue(
        backend, person_id=person_id, certificate_number=certificate_number, cycle_year=_year(cycle_year)
    )
    proof = issued.proof
    link = _link(backend, PROOF, proof.id)
    return ProofOut(
        certificate_number=proof.certificate_number,
        position=proof.position,
        cycle_year=proof.cycle_year,
        total_hours=proof.professional_hours + proof.general_hours,
        assessment_score=proof.assessment_score,
        status=STATUS_WORDS[proof.status],
        issued_on=proof.issued_on,
        verify_url=verify_url(backend.settings, proof.verify_code),
        download_url=link.url,
        download_expires_at=link.expires_at,
        message=f"这是您{proof.cycle_year}年度的学时证明。" + _link_hint(),
    )


@trainee.get("/verify/{code}", response_model=VerifiedOut)
async def verify_json(code: str, backend: BackendDep) -> VerifiedOut:
    """What the public page shows, as JSON."""
    verified = await look_up(backend, code)
    if verified is None:
        raise AppError(404, "not_found", "没有找到这份证书")
    return VerifiedOut(
        document=verified.document,
        holder=verified.holder,
        certificate_number=verified.certificate_number,
        position=verified.position,
        cycle_year=verified.cycle_year,
        status=verified.status_word,
        issued_on=verified.issued_on,
    )


public = APIRouter(tags=["公开 public"])


@public.head("/verify/{code}", response_class=HTMLResponse, include_in_schema=False)
@public.get("/verify/{code}", response_class=HTMLResponse, responses=ERROR_RESPONSES)  # errors are JSON
async def verify_page(code: str, backend: BackendDep) -> HTMLResponse:
    """The page behind a document's QR code."""
    verified = await look_up(backend, code)
    if verified is None:
        return HTMLResponse(not_found_page(), status_code=404, headers=NO_STORE)
    return HTMLResponse(page(verified), headers=NO_STORE)


_GONE = {
    DocumentStatus.SUPERSEDED: "这份{0}已更新，请回到对话里获取最新版本",
    DocumentStatus.REVOKED: "这份{0}已被撤销，不能再下载",
}
_BAD_LINK = AppError(404, "bad_link", "下载链接不对，请回到对话里重新获取")


def _pdf_response(data: bytes, filename: str) -> Response:
    # inline: a phone opens it in its viewer, from where it can be saved under the Chinese name.
    disposition = f"inline; filename=\"document.pdf\"; filename*=UTF-8''{quote(filename)}"
    return Response(
        data, media_type="application/pdf", headers={"Content-Disposition": disposition, **NO_STORE}
    )


def _refuse_if_gone(status: str, document: str) -> None:
    if status in _GONE:
        raise AppError(410, f"document_{status}", _GONE[status].format(document))


@public.head("/downloads/{token}", response_class=Response, include_in_schema=False)
@public.get("/downloads/{token}", response_class=Response)
async def download(token: str, backend: BackendDep) -> Response:
    """A PDF behind a signed link; superseded or revoked documents are no longer handed out."""
    ref = read_download_token(backend.settings, token, now=backend.now())
    if ref.kind == ECERT:
        async with backend.sessions() as session:
            ecert = await session.get(ECertificate, ref.document_id)
            status = await ecerts.status_of(session, ecert) if ecert is not None else None
        if ecert is None or status is None:
            raise _BAD_LINK
        _refuse_if_gone(status, "电子证书")
        content = await ecerts.content_of(backend, ecert)
        data = await asyncio.to_thread(render_e_certificate, content)
        return _pdf_response(data, f"电子培训合格证-{ecert.certificate_number}-第{ecert.version}版.pdf")
    if ref.kind == PROOF:
        async with backend.sessions() as session:
            proof = await session.get(TrainingProof, ref.document_id)
            status = await proofs.status_of(session, proof) if proof is not None else None
        if proof is None or status is None:
            raise _BAD_LINK
        _refuse_if_gone(status, "学时证明")
        data = await asyncio.to_thread(render_training_proof, proofs.content_of(backend, proof))
        return _pdf_response(data, f"学时证明-{proof.certificate_number}-{proof.cycle_year}年度.pdf")
    raise _BAD_LINK


admin = APIRouter(prefix="/api/admin/documents", tags=["管理员 admin"], dependencies=[Depends(require_admin)])


@admin.post("/certificates/{certificate_number}/revocation", response_model=RevocationOut)
async def revoke_certificate(
    certificate_number: CertificateNumber, body: RevocationIn, backend: BackendDep
) -> RevocationOut:
    """Revoke the e-certificate of a certificate: its verification page shows 已撤销 from now on."""
    revoked = await ecerts.revoke(backend, certificate_number=certificate_number, reason=body.reason)
    return RevocationOut(
        certificate_number=certificate_number,
        revoked_versions=[ecert.version for ecert in revoked],
        message=f"已撤销{len(revoked)}个版本",
    )


router = APIRouter()
router.include_router(trainee)
router.include_router(public)
router.include_router(admin)
