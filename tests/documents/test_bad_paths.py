"""Over-long certificate numbers are simply not found and malformed years refused, never echoed back."""

from __future__ import annotations

import httpx
import pytest

from services.context import Backend
from tests.documents.trainees import registered

LONG = "7" * 3000


@pytest.mark.parametrize(
    ("path", "status", "word"),
    [
        (f"/api/documents/me/certificates/{LONG}/renewal", 404, "证书"),
        (f"/api/documents/me/certificates/{LONG}/e-certificate", 404, "证书"),
        (f"/api/documents/me/certificates/{LONG}/training-proofs/2026", 404, "证书"),
        ("/api/documents/me/certificates/1/training-proofs/99999999999999999999999", 422, "年度"),
    ],
)
async def test_oversized_path_parts_get_a_short_chinese_answer(
    client: httpx.AsyncClient, backend: Backend, path: str, status: int, word: str
) -> None:
    trainee = await registered(client, backend, photo=False)
    answer = await client.post(path, headers=trainee.auth)
    assert answer.status_code == status, answer.text
    assert len(answer.text) < 300 and word in answer.json()["error"]["message"]


async def test_oversized_number_for_revocation(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    answer = await client.post(
        f"/api/admin/documents/certificates/{LONG}/revocation", json={"reason": "测试"}, headers=admin_headers
    )
    assert answer.status_code == 404 and len(answer.text) < 300
