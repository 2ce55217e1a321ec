"""The public verification page a document's QR code points to.

It shows the holder's name partly masked, the certificate number, the position, the status and the
issue date (and, for a training proof, its cycle), and nothing more; every unknown code gets the same 404.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date
from string import Template

from sqlalchemy import select

from rules.help import HELPLINE
from rules.identity import mask_name
from services.context import Backend
from services.documents import ecerts, proofs
from services.documents.ecert_pdf import chinese_date
from storage.models.documents import DocumentStatus, ECertificate, TrainingProof

STATUS_WORDS = {
    DocumentStatus.VALID: "有效",
    DocumentStatus.SUPERSEDED: "已更新",
    DocumentStatus.REVOKED: "已撤销",
}
STATUS_NOTES = {
    DocumentStatus.VALID: "这份证书真实有效。",
    DocumentStatus.SUPERSEDED: "这份证书已被更新的版本取代，请以持证人出示的最新版本为准。",
    DocumentStatus.REVOKED: "这份证书已被撤销，不再有效。",
}


@dataclass(frozen=True)
class Verified:
    document: str
    holder: str
    certificate_number: str
    position: str
    status: str
    status_word: str
    issued_on: date
    cycle_year: int | None = None


async def look_up(backend: Backend, code: str) -> Verified | None:
    if not code or len(code) > 64:
        return None
    async with backend.sessions() as session:
        ecert = await session.scalar(select(ECertificate).where(ECertificate.verify_code == code))
        if ecert is not None:
            status = await ecerts.status_of(session, ecert)
            return Verified(
                document="电子培训合格证",
                holder=mask_name(ecert.holder_name),
                certificate_number=ecert.certificate_number,
                position=ecert.position,
                status=status,
                status_word=STATUS_WORDS[status],
                issued_on=ecert.issued_on,
            )
        proof = await session.scalar(select(TrainingProof).where(TrainingProof.verify_code == code))
        if proof is None:
            return None
        status = await proofs.status_of(session, proof)
        return Verified(
            document="学时证明",
            holder=mask_name(proof.holder_name),
            certificate_number=proof.certificate_number,
            position=proof.position,
            status=status,
            status_word=STATUS_WORDS[status],
            issued_on=proof.issued_on,
            cycle_year=proof.cycle_year,
        )


_PAGE = Template("""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>$title</title>
<style>
body{font-family:system-ui,-apple-system,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;
background:#f4f1ec;color:#222}
main{max-width:30rem;margin:2rem auto;background:#fff;border-top:6px solid #8c1212;padding:1.5rem;
border-radius:6px}
h1{font-size:1.3rem;margin:0 0 1rem}
dl{display:grid;grid-template-columns:6em 1fr;gap:.6rem;margin:0}
dt{color:#8c1212}dd{margin:0}
.status{font-weight:bold}.valid{color:#17692c}.superseded{color:#a86400}.revoked{color:#b01010}
p{line-height:1.6}
</style>
</head>
<body><main>
$body
</main></body>
</html>
""")


def page(verified: Verified) -> str:
    rows = [
        ("证书类型", verified.document),
        ("姓名", verified.holder),
        ("证书编号", verified.certificate_number),
        ("岗位名称", verified.position),
    ]
    if verified.cycle_year is not None:
        rows.append(("培训周期", f"{verified.cycle_year}年度"))
    rows.append(("发证日期", chinese_date(verified.issued_on)))
    items = "\n".join(f"<dt>{html.escape(label)}</dt><dd>{html.escape(value)}</dd>" for label, value in rows)
    status = f'<dt>状态</dt><dd class="status {verified.status}">{html.escape(verified.status_word)}</dd>'
    body = (
        "<h1>证书核验结果</h1>\n"
        f"<dl>\n{items}\n{status}\n</dl>\n"
        f"<p>{html.escape(STATUS_NOTES[verified.status])}</p>"
    )
    return _PAGE.substitute(title="证书核验", body=body)


def not_found_page() -> str:
    body = (
        "<h1>没有找到这份证书</h1>\n"
        "<p>请确认二维码完整、清晰后重新扫描。"
        f"如有疑问请拨打客服电话 {HELPLINE}。</p>"
    )
    return _PAGE.substitute(title="证书核验", body=body)
