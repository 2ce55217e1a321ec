"""E-certificate renewal: the PDF a trainee downloads, its QR code, and the page the code leads to."""

from __future__ import annotations

import asyncio
from urllib.parse import quote

import httpx
from sqlalchemy import func, select

from rules.identity import mask_id_number
from services.context import Backend
from services.documents import ecerts
from storage.models import ECertificate
from tests.conftest import FakeClock
from tests.documents.conftest import PUBLIC_URL
from tests.documents.reading import embedded_fonts, page_status, pdf_text, qr_urls
from tests.documents.trainees import add_certificate, login, record_hours, registered, withdraw_hours


def renewal(number: str) -> str:
    return f"/api/documents/me/certificates/{number}/renewal"


def view(number: str) -> str:
    return f"/api/documents/me/certificates/{number}/e-certificate"


async def versions(backend: Backend) -> int:
    async with backend.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(ECertificate)) or 0)


async def test_renewal_gives_a_pdf_whose_qr_code_leads_to_the_verification_page(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend, name="古林前")
    number = await add_certificate(backend, trainee, position="安全员", hours={2025: (22, 10)})

    answer = await client.post(renewal(number), headers=trainee.auth)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["renewed"] is True and body["version"] == 1 and body["status"] == "有效"
    assert body["download_url"].startswith(PUBLIC_URL + "/downloads/")
    assert trainee.id_number not in body["download_url"] and number not in body["download_url"]

    download = await client.get(body["download_url"])  # a plain GET, no login
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert quote(f"电子培训合格证-{number}-第1版.pdf") in download.headers["content-disposition"]
    head = await client.head(body["download_url"])  # link previews of chat apps ask first
    assert head.status_code == 200 and head.headers["content-type"] == "application/pdf"
    data = download.content
    assert data.startswith(b"%PDF") and len(data) < 300 * 1024

    text = pdf_text(data)
    for shown in (
        "电子培训合格证",
        "古林前",
        mask_id_number(trainee.id_number),
        number,
        "安全员",
        "专业人员",
        "吉林省建设行业继续教育平台",
        "2026年3月2日",
        "2025年度 32学时",
    ):
        assert shown in text, shown
    assert trainee.id_number not in text, "the ID number is masked on the certificate"
    fonts = embedded_fonts(data)
    assert fonts and all(extension == "ttf" for _, extension in fonts), "the Chinese font is embedded"
    assert all("+" in name for name, _ in fonts), "and subsetted"

    [url] = qr_urls(data)
    assert url == body["verify_url"] and url.startswith(PUBLIC_URL + "/verify/")
    page = await client.get(url)
    assert page.status_code == 200
    assert "古**" in page.text and "古林前" not in page.text
    assert page_status(page.text) == "有效"
    for shown in (number, "安全员", "2026年3月2日"):
        assert shown in page.text
    assert mask_id_number(trainee.id_number) not in page.text, "the page shows nothing more than it must"
    assert trainee.id_number[:6] not in page.text


async def test_renewal_after_new_hours_supersedes_the_old_version(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee, hours={2025: (22, 10)})
    first = (await client.post(renewal(number), headers=trainee.auth)).json()

    again = (await client.post(renewal(number), headers=trainee.auth)).json()
    assert again["renewed"] is False and again["version"] == 1, "nothing changed, nothing new issued"
    assert "已是最新" in again["message"]
    assert await versions(backend) == 1

    await record_hours(backend, number, 2026, 22, 10)
    second = (await client.post(renewal(number), headers=trainee.auth)).json()
    assert second["renewed"] is True and second["version"] == 2
    assert second["verify_url"] != first["verify_url"]

    assert page_status((await client.get(first["verify_url"])).text) == "已更新"
    assert page_status((await client.get(second["verify_url"])).text) == "有效"

    old_pdf = await client.get(first["download_url"])
    assert old_pdf.status_code == 410
    assert "已更新" in old_pdf.json()["error"]["message"]
    new_pdf = (await client.get(second["download_url"])).content
    assert "2026年度 32学时" in pdf_text(new_pdf) and "第2版" in pdf_text(new_pdf)
    assert qr_urls(new_pdf) == [second["verify_url"]]


async def test_withdrawn_hours_revoke_the_version_and_new_hours_renew_it(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee, hours={2025: (22, 10)})
    first = (await client.post(renewal(number), headers=trainee.auth)).json()

    await withdraw_hours(backend, number, 2025)  # 学时清零 takes the hours back
    assert page_status((await client.get(first["verify_url"])).text) == "已撤销"
    assert (await client.get(first["download_url"])).status_code == 410
    stale = await client.post(view(number), headers=trainee.auth)
    assert stale.status_code == 409 and "学时已被清零" in stale.json()["error"]["message"]

    await record_hours(backend, number, 2025, 22, 10)  # earned again
    second = (await client.post(renewal(number), headers=trainee.auth)).json()
    assert second["renewed"] is True and second["version"] == 2
    assert page_status((await client.get(first["verify_url"])).text) == "已撤销"
    assert page_status((await client.get(second["verify_url"])).text) == "有效"


async def test_skilled_workers_view_and_download_professionals_renew_first(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend, name="查干湖")
    trade = await add_certificate(backend, trainee, position="钢筋工", category="技能人员")
    refused = await client.post(renewal(trade), headers=trainee.auth)
    assert refused.status_code == 409 and "查看/下载" in refused.json()["error"]["message"]

    shown = await client.post(view(trade), headers=trainee.auth)
    assert shown.status_code == 200 and shown.json()["version"] == 1
    text = pdf_text((await client.get(shown.json()["download_url"])).content)
    assert "钢筋工" in text and "技能人员" in text and "查干湖" in text

    position = await add_certificate(backend, trainee, position="施工员（土建）")
    early = await client.post(view(position), headers=trainee.auth)
    assert early.status_code == 409 and "证书更新" in early.json()["error"]["message"]
    assert (await client.post(renewal(position), headers=trainee.auth)).status_code == 200
    later = await client.post(view(position), headers=trainee.auth)
    assert later.status_code == 200 and later.json()["renewed"] is False


async def test_refused_without_a_normal_certificate_or_a_photo(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    lapsed = await add_certificate(backend, trainee, status="非正常", remark="未按要求完成继续教育")
    refused = await client.post(renewal(lapsed), headers=trainee.auth)
    assert refused.status_code == 409
    assert "非正常" in refused.json()["error"]["message"] and "继续教育" in refused.json()["error"]["message"]

    no_photo = await registered(client, backend, name="白山松", photo=False)
    normal = await add_certificate(backend, no_photo, position="钢筋工", category="技能人员")
    missing = await client.post(view(normal), headers=no_photo.auth)
    assert missing.status_code == 409 and "照片" in missing.json()["error"]["message"]

    nonsense = await client.post(renewal("不存在的证书编号" * 5), headers=trainee.auth)
    assert nonsense.status_code == 404 and "没有找到这个证书" in nonsense.json()["error"]["message"]
    others = await client.post(renewal(normal), headers=trainee.auth)
    assert others.status_code == 404, "someone else's certificate is not found"
    assert (await client.post(renewal(normal))).status_code == 401
    assert await versions(backend) == 0


async def test_revocation_shows_on_the_page_and_stops_downloads(
    client: httpx.AsyncClient, backend: Backend, admin_headers: dict[str, str]
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee)
    issued = (await client.post(renewal(number), headers=trainee.auth)).json()

    no_reason = await client.post(
        f"/api/admin/documents/certificates/{number}/revocation", json={"reason": "  "}, headers=admin_headers
    )
    assert no_reason.status_code == 422
    assert page_status((await client.get(issued["verify_url"])).text) == "有效"

    revoked = await client.post(
        f"/api/admin/documents/certificates/{number}/revocation",
        json={"reason": "证书信息有误"},
        headers=admin_headers,
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_versions"] == [1]
    twice = await client.post(
        f"/api/admin/documents/certificates/{number}/revocation",
        json={"reason": "再撤一次"},
        headers=admin_headers,
    )
    assert twice.status_code == 409 and "已经撤销过了" in twice.json()["error"]["message"]
    assert page_status((await client.get(issued["verify_url"])).text) == "已撤销"
    assert (await client.get(issued["download_url"])).status_code == 410
    again = await client.post(renewal(number), headers=trainee.auth)
    assert again.status_code == 409 and "撤销" in again.json()["error"]["message"]
    assert (
        await client.post(f"/api/admin/documents/certificates/{number}/revocation", json={"reason": "x"})
    ).status_code in (401, 403)
    unknown = await client.post(
        "/api/admin/documents/certificates/吉建培0000000000/revocation",
        json={"reason": "x"},
        headers=admin_headers,
    )
    assert unknown.status_code == 404 and "还没有换发过电子证书" in unknown.json()["error"]["message"]


async def test_links_are_signed_and_expire(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee)
    issued = (await client.post(renewal(number), headers=trainee.auth)).json()
    url = issued["download_url"]

    forged = url[:-3] + ("aaa" if not url.endswith("aaa") else "bbb")
    assert (await client.get(forged)).status_code == 404

    clock.advance(hours=71)
    assert (await client.get(url)).status_code == 200
    clock.advance(hours=2)
    expired = await client.get(url)
    assert expired.status_code == 410 and "过期" in expired.json()["error"]["message"]
    auth = await login(client, trainee.id_number, trainee.phone)
    fresh = (await client.post(view(number), headers=auth)).json()
    assert (await client.get(fresh["download_url"])).status_code == 200

    unknown = await client.get(f"{PUBLIC_URL}/verify/NoSuchCodeNoSuchCode12")
    assert unknown.status_code == 404 and "没有找到" in unknown.text
    assert (await client.get("/api/documents/verify/NoSuchCodeNoSuchCode12")).status_code == 404


async def test_simultaneous_renewals_issue_one_version(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee)
    issued = await asyncio.gather(
        *(ecerts.renew(backend, person_id=trainee.person_id, certificate_number=number) for _ in range(4))
    )
    assert len({result.ecert.verify_code for result in issued}) == 1
    assert [result.created for result in issued].count(True) == 1
    assert await versions(backend) == 1
