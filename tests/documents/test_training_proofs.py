"""Training proofs (学时证明): 打印证书 after the hours review and the assessment, and their QR codes."""

from __future__ import annotations

import asyncio

import httpx

from rules.identity import mask_id_number
from services.context import Backend
from services.documents import proofs
from tests.documents.conftest import PUBLIC_URL
from tests.documents.enrolments import clear_hours, enrolment, learning_token, review_again
from tests.documents.reading import embedded_fonts, page_status, pdf_text, qr_urls
from tests.documents.trainees import add_certificate, registered


def proof(number: str, year: int = 2026) -> str:
    return f"/api/documents/me/certificates/{number}/training-proofs/{year}"


async def test_proof_pdf_shows_the_courses_and_its_qr_code_leads_to_the_page(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend, name="白山松")
    number = await add_certificate(backend, trainee, position="安全员", hours={})
    finished = await enrolment(backend, trainee.person_id, number, score=85)
    auth = await learning_token(backend, trainee.person_id)

    answer = await client.post(proof(number), headers=auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["total_hours"] == 32 and body["assessment_score"] == 85 and body["status"] == "有效"
    assert body["download_url"].startswith(PUBLIC_URL + "/downloads/")

    download = await client.get(body["download_url"])
    assert download.status_code == 200 and download.headers["content-type"] == "application/pdf"
    data = download.content
    assert len(data) < 300 * 1024
    text = pdf_text(data)
    for shown in (
        "继续教育学时证明",
        "白山松",
        mask_id_number(trainee.id_number),
        number,
        "安全员",
        "2026年度培训周期",
        "专业课程 22学时",
        "通用课程 10学时",
        "合计 32学时",
        "考核结果：合格（85分）",
        "培训机构：吉林省建设行业继续教育平台",
        "出具日期：2026年3月2日",
        *finished.titles,
    ):
        assert shown in text, shown
    assert trainee.id_number not in text
    assert all(extension == "ttf" and "+" in name for name, extension in embedded_fonts(data))

    assert qr_urls(data) == [body["verify_url"]]
    page = await client.get(body["verify_url"])
    assert page.status_code == 200
    assert page_status(page.text) == "有效"
    for shown in ("学时证明", "白**", number, "安全员", "2026年度", "2026年3月2日"):
        assert shown in page.text, shown
    assert "白山松" not in page.text

    again = (await client.post(proof(number), headers=trainee.auth)).json()
    assert again["verify_url"] == body["verify_url"], "the management-system login gets the same proof"


async def test_no_proof_before_the_review_and_the_assessment(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    auth = await learning_token(backend, trainee.person_id)
    studying = await add_certificate(backend, trainee, hours={})
    await enrolment(backend, trainee.person_id, studying, completed=False, passed=False, reviewed=False)
    refused = await client.post(proof(studying), headers=auth)
    assert refused.status_code == 409 and "没有全部学完" in refused.json()["error"]["message"]

    failing = await add_certificate(backend, trainee, hours={})
    await enrolment(backend, trainee.person_id, failing, passed=False, reviewed=False)
    refused = await client.post(proof(failing), headers=auth)
    assert refused.status_code == 409 and "考核还没有通过" in refused.json()["error"]["message"]

    waiting = await add_certificate(backend, trainee, hours={})
    await enrolment(backend, trainee.person_id, waiting, reviewed=False)
    refused = await client.post(proof(waiting), headers=auth)
    assert refused.status_code == 409 and "学时审核" in refused.json()["error"]["message"]

    bad_year = await client.post(
        f"/api/documents/me/certificates/{waiting}/training-proofs/26年", headers=auth
    )
    assert bad_year.status_code == 422 and "四位数字" in bad_year.json()["error"]["message"]
    missing = await client.post(proof(waiting, 2025), headers=auth)
    assert missing.status_code == 404 and "2025年度" in missing.json()["error"]["message"]
    assert (await client.post(proof(waiting))).status_code == 401

    stranger = await registered(client, backend, name="查干湖")
    assert (await client.post(proof(waiting), headers=stranger.auth)).status_code == 404


async def test_hours_clearance_revokes_the_proof_and_a_new_review_issues_another(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee, hours={})
    finished = await enrolment(backend, trainee.person_id, number)
    first = (await client.post(proof(number), headers=trainee.auth)).json()
    assert page_status((await client.get(first["verify_url"])).text) == "有效"

    await clear_hours(backend, finished.enrolment_id, "检测到挂机刷课")
    assert page_status((await client.get(first["verify_url"])).text) == "已撤销"
    gone = await client.get(first["download_url"])
    assert gone.status_code == 410 and "撤销" in gone.json()["error"]["message"]
    refused = await client.post(proof(number), headers=trainee.auth)
    assert refused.status_code == 409

    await review_again(backend, finished.enrolment_id)
    second = (await client.post(proof(number), headers=trainee.auth)).json()
    assert second["verify_url"] != first["verify_url"] and second["status"] == "有效"
    assert page_status((await client.get(first["verify_url"])).text) == "已撤销"
    assert page_status((await client.get(second["verify_url"])).text) == "有效"
    assert qr_urls((await client.get(second["download_url"])).content) == [second["verify_url"]]


async def test_simultaneous_requests_issue_one_proof(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee, hours={})
    await enrolment(backend, trainee.person_id, number)
    issued = await asyncio.gather(
        *(
            proofs.issue(backend, person_id=trainee.person_id, certificate_number=number, cycle_year=2026)
            for _ in range(4)
        )
    )
    assert len({result.proof.verify_code for result in issued}) == 1
    assert [result.created for result in issued].count(True) == 1
