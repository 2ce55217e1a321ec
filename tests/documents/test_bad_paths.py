"""Certificate numbers and years in document paths are checked before they reach the database."""

from __future__ import annotations

import httpx
import pytest

from services.context import Backend
from tests.documents.trainees import registered

LONG = "7" * 3000


@pytest.mark.parametrize(
    "path",
    [
        f"/api/documents/me/certificates/{LONG}/renewal",
        f"/api/documents/me/certificates/{LONG}/e-certificate",
        f"/api/documents/me/certificates/{LONG}/training-proofs/2026",
        "/api/documents/me/certificates/1/training-proofs/99999999999999999999999",
    ],
)
async def test_oversized_path_parts_get_a_short_chinese_422(
    client: httpx.AsyncClient, backend: Backend, path: str
) -> None:
    trainee = await registered(client, backend, photo=False)
    answer = await client.post(path, headers=trainee.auth)
    assert answer.status_code == 422, answer.text
    assert len(answer.text) < 300 and LONG not in answer.text
    assert any(word in answer.json()["error"]["message"] for word in ("证书编号", "年度"))


async def test_oversized_number_for_revocation(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    answer = await client.post(
        f"/api/admin/documents/certificates/{LONG}/revocation", json={"reason": "测试"}, headers=admin_headers
    )
    assert answer.status_code == 422 and LONG not in answer.text
