"""PDF rendering speed and size of the e-certificate and the training proof, and downloads over HTTP.

Aims (issue 6): under 100 ms and under 300 KB per PDF. The first render of a process also parses
the embedded font once; it is reported apart.
"""

from __future__ import annotations

import asyncio
import re
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import httpx

from bench._server import Figures, database, serving
from rules.identity import id_check_char
from services.documents.ecert_pdf import ECertificateContent, YearlyHours, render_e_certificate
from services.documents.proof_pdf import ProofContent, ProofCourse, render_training_proof
from tests.photos.synth import id_photo_jpeg

RENDERS = 200
DOWNLOADS = 300
CONCURRENCY = 8
ADMIN_TOKEN = "bench-admin-token"  # noqa: S105 - a throwaway server's token
VERIFY_URL = "https://jianpei.example.cn/verify/8fJ2kQeT0aZr1yXw3vB7nA"


def e_certificate() -> ECertificateContent:
    return ECertificateContent(
        holder_name="古林前",
        id_number_masked="220102********0319",
        certificate_number="吉建培2021000458",
        position="施工员（装饰装修）",
        category="专业人员",
        institution="吉林省建设行业继续教育平台",
        issued_on=date(2026, 3, 2),
        yearly_hours=[YearlyHours(2026, 32), YearlyHours(2025, 32), YearlyHours(2024, 32)],
        version=3,
        verify_url=VERIFY_URL,
        photo=id_photo_jpeg(),
        issued_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )


def training_proof(courses: int) -> ProofContent:
    return ProofContent(
        holder_name="白山松",
        id_number_masked="220204********0521",
        certificate_number="吉建培2020003317",
        position="施工员（土建）",
        cycle_year=2026,
        courses=[
            ProofCourse(
                f"建筑施工安全生产与质量管理专题（第{index}讲）", "专业" if index % 4 else "通用", 2.0
            )
            for index in range(1, courses + 1)
        ],
        professional_hours=22,
        general_hours=10,
        general_exempt=False,
        assessment_score=88,
        institution="吉林省建设行业继续教育平台",
        issued_on=date(2026, 3, 2),
        verify_url=VERIFY_URL,
        issued_at=datetime(2026, 3, 2, 9, tzinfo=UTC),
    )


def measure_render(label: str, render: Callable[[], bytes]) -> None:
    timings = []
    size = 0
    for _ in range(RENDERS):
        started = time.perf_counter()
        size = len(render())
        timings.append(time.perf_counter() - started)
    ordered = sorted(timings)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    print(
        f"{label:<32} {RENDERS / sum(timings):8.1f} PDF/s   mean {statistics.fmean(timings) * 1000:6.1f} ms"
        f"   p99 {p99 * 1000:6.1f} ms   {size / 1024:6.1f} KB/PDF   (n={RENDERS})",
        flush=True,
    )


async def download_figures(base: str) -> Figures:
    """One trainee with a renewed e-certificate; then many plain GETs of its signed link."""
    first17 = "22010219780512031"
    id_number, phone = first17 + id_check_char(first17), "13900009999"
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        csv = (
            "name,id_number,certificate_number,position,category,status,remark,issued_on\n"
            f"古林前,{id_number},吉建培2021000458,安全员,专业人员,正常,,2021-09-02\n"
        )
        imported = await client.post("/api/admin/certificates/import", content=csv.encode(), headers=admin)
        imported.raise_for_status()
        person = {"name": "古林前", "id_number": id_number, "phone": phone}
        (await client.post("/api/registry/sms-codes", json=person)).raise_for_status()
        outbox = await client.get("/api/admin/sms-outbox", params={"phone": phone, "limit": 1}, headers=admin)
        code = re.search(r"\d{6}", outbox.json()[0]["text"])
        assert code is not None
        made = await client.post("/api/registry/accounts", json={**person, "code": code.group(0)})
        made.raise_for_status()
        token = (
            await client.post("/api/registry/sessions", json={"login": id_number, "password": phone})
        ).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        uploaded = await client.put(
            "/api/registry/me/photo", files={"file": ("me.jpg", id_photo_jpeg(), "image/jpeg")}, headers=auth
        )
        uploaded.raise_for_status()
        renewed = await client.post("/api/documents/me/certificates/吉建培2021000458/renewal", headers=auth)
        renewed.raise_for_status()
        path = urlsplit(renewed.json()["download_url"]).path

    latencies: list[float] = []
    remaining = iter(range(DOWNLOADS))
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def worker() -> None:
            for _ in remaining:
                started = time.perf_counter()
                response = await client.get(path)
                latencies.append(time.perf_counter() - started)
                if response.status_code != 200 or not response.content.startswith(b"%PDF"):
                    raise RuntimeError(f"download: {response.status_code} {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return Figures("e-certificate GET (sqlite)", DOWNLOADS, time.perf_counter() - started, latencies)


def main() -> None:
    content = e_certificate()
    started = time.perf_counter()
    render_e_certificate(content)
    cold_ms = (time.perf_counter() - started) * 1000
    print(f"first render in this process (parses the font once): {cold_ms:.0f} ms")
    measure_render("e-certificate (A5, photo, QR)", lambda: render_e_certificate(content))
    short, long = training_proof(12), training_proof(40)
    measure_render("training proof, 12 courses", lambda: render_training_proof(short))
    measure_render("training proof, 40 courses (2 pp)", lambda: render_training_proof(long))
    print(f"over real HTTP: `jianpei serve` on SQLite, {CONCURRENCY} concurrent clients")
    with database("sqlite") as url, serving(url, JIANPEI_ADMIN_TOKEN=ADMIN_TOKEN) as base:
        print(asyncio.run(download_figures(base)).line(), flush=True)


if __name__ == "__main__":
    main()
