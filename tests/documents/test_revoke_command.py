"""`jianpei admin revoke-certificate`, run as a real process against the test databases."""

from __future__ import annotations

import httpx

from services.context import Backend
from tests.documents.reading import page_status
from tests.documents.trainees import add_certificate, record_hours, registered
from tests.test_cli_admin import jianpei


async def test_revoke_command_marks_every_version_revoked(
    client: httpx.AsyncClient, backend: Backend
) -> None:
    trainee = await registered(client, backend)
    number = await add_certificate(backend, trainee)
    path = f"/api/documents/me/certificates/{number}/renewal"
    first = (await client.post(path, headers=trainee.auth)).json()
    await record_hours(backend, number, 2026, 22, 10)
    second = (await client.post(path, headers=trainee.auth)).json()
    assert page_status((await client.get(first["verify_url"])).text) == "已更新"

    done = jianpei(backend, "admin", "revoke-certificate", number, "--reason", "冒用他人身份")
    assert done.returncode == 0, done.stderr
    assert "第1版、第2版" in done.stdout
    for issued in (first, second):
        assert page_status((await client.get(issued["verify_url"])).text) == "已撤销"
