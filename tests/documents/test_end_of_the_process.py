"""The end of the guide's process, end to end over HTTP: a demo trainee finishes continuing education
on the platform, prints the training proof, renews the e-certificate in the management system; then
a 学时清零 revokes both, since the hours they show are withdrawn."""

from __future__ import annotations

import httpx

from services.context import Backend
from services.learning.completion import clear_hours
from tests.conftest import FakeClock
from tests.documents.reading import page_status, pdf_text, qr_urls
from tests.learning.test_completion import GULINQIAN, demo_trainee_completes
from tests.photos.synth import id_photo_jpeg


async def test_demo_trainee_prints_the_proof_and_renews_the_certificate(
    client: httpx.AsyncClient, backend: Backend, clock: FakeClock
) -> None:
    trainee, order = await demo_trainee_completes(client, backend, clock)

    proof = await client.post(
        "/api/documents/me/certificates/221175/training-proofs/2026", headers=trainee.headers
    )
    assert proof.status_code == 200, proof.text
    assert proof.json()["total_hours"] == 32 and proof.json()["assessment_score"] == 100
    data = (await client.get(proof.json()["download_url"])).content
    text = pdf_text(data)
    for shown in ("古林前", "221175", "机械员", "合计 32学时", "考核结果：合格（100分）"):
        assert shown in text, shown
    assert all(course["title"] in text for course in order["courses"])
    [proof_url] = qr_urls(data)
    assert page_status((await client.get(proof_url)).text) == "有效"

    login = await client.post("/api/registry/sessions", json={"login": GULINQIAN, "password": "13900000001"})
    registry = {"Authorization": f"Bearer {login.json()['token']}"}
    photo = await client.put(
        "/api/registry/me/photo", files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")}, headers=registry
    )
    assert photo.status_code == 201, photo.text
    renewed = await client.post("/api/documents/me/certificates/221175/renewal", headers=registry)
    assert renewed.status_code == 200, renewed.text
    certificate = (await client.get(renewed.json()["download_url"])).content
    assert "2026年度 32学时" in pdf_text(certificate) and "机械员" in pdf_text(certificate)
    [certificate_url] = qr_urls(certificate)
    assert page_status((await client.get(certificate_url)).text) == "有效"
    certificate_link = renewed.json()["download_url"]

    await clear_hours(backend, certificate_number="221175", cycle_year=2026, reason="检测到挂机软件刷课")
    assert page_status((await client.get(proof_url)).text) == "已撤销"
    assert page_status((await client.get(certificate_url)).text) == "已撤销"
    assert (await client.get(certificate_link)).status_code == 410
    again = await client.post("/api/documents/me/certificates/221175/renewal", headers=registry)
    assert again.status_code == 409 and "非正常" in again.json()["error"]["message"]
    refused = await client.post(
        "/api/documents/me/certificates/221175/training-proofs/2026", headers=trainee.headers
    )
    assert refused.status_code == 409
