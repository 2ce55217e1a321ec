"""Bad values in operator queries and unknown fields get a Chinese message, and errors never carry
personal data from the statement that failed."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.exc import IntegrityError

from services.context import Backend
from storage.models import Person
from tests.people import make_id_number


@pytest.mark.parametrize("limit", ["-1", "0", "501", "99999999999999999999999"])
async def test_outbox_limit_is_bounded(
    client: httpx.AsyncClient, admin_headers: dict[str, str], limit: str
) -> None:
    response = await client.get("/api/admin/sms-outbox", params={"limit": limit}, headers=admin_headers)
    assert response.status_code == 422
    assert response.json()["error"]["message"].startswith("条数")


async def test_database_errors_do_not_carry_id_numbers(backend: Backend) -> None:
    id_number = make_id_number()
    async with backend.transaction() as session:
        session.add(Person(id_number=id_number, name="白山松"))
    with pytest.raises(IntegrityError) as failure:
        async with backend.transaction() as session:
            session.add(Person(id_number=id_number, name="白山松"))
    assert id_number not in str(failure.value)
