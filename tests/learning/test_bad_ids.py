"""Ids too big for the database, or not numbers at all, get a Chinese 422 instead of a crash."""

from __future__ import annotations

import httpx
import pytest

from services.context import Backend
from tests.learning.conftest import enrol, make_trainee

pytestmark = pytest.mark.usefixtures("catalog")

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/api/learning/enrolments/{HUGE}", None),
        ("POST", f"/api/learning/enrolments/{HUGE}/courses/1/watch", None),
        ("POST", "/api/learning/enrolments/{own}/courses/" + HUGE + "/watch", None),
        ("POST", f"/api/learning/enrolments/{HUGE}/assessment", None),
        ("GET", f"/api/learning/enrolments/{HUGE}/assessment", None),
        ("PUT", f"/api/learning/enrolments/{HUGE}/assessment/answers/1", {"answer": "A"}),
        ("PUT", "/api/learning/enrolments/{own}/assessment/answers/" + HUGE, {"answer": "A"}),
        ("POST", f"/api/learning/enrolments/{HUGE}/assessment/submit", None),
        ("POST", "/api/learning/player-links", {"enrolment_id": int(HUGE)}),
        ("GET", "/api/learning/enrolments/0", None),
        ("GET", "/api/learning/enrolments/-1", None),
        ("GET", "/api/learning/enrolments/" + "9" * 5000, None),
    ],
)
async def test_oversized_ids_are_refused_in_chinese(
    client: httpx.AsyncClient, backend: Backend, method: str, path: str, body: dict | None
) -> None:
    trainee = await make_trainee(client, backend)
    order = await enrol(client, trainee, trainee.certificates[0])
    answer = await client.request(
        method, path.replace("{own}", str(order["id"])), json=body, headers=trainee.headers
    )
    assert answer.status_code == 422, answer.text
    message = answer.json()["error"]["message"]
    assert "不对" in message and HUGE not in message and "_" not in message
    # The order itself is untouched: nothing was started on it.
    again = await client.get(f"/api/learning/enrolments/{order['id']}", headers=trainee.headers)
    assert again.json()["assessment"]["in_progress"] is False


async def test_long_certificate_number_is_not_echoed(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    answer = await client.get(
        "/api/learning/packages", params={"certificate_number": "8" * 9000}, headers=trainee.headers
    )
    assert answer.status_code == 422
    assert len(answer.text) < 300 and "证书编号" in answer.json()["error"]["message"]
    listed = await client.get(
        "/api/learning/packages",
        params={"certificate_number": trainee.certificates[0]},
        headers=trainee.headers,
    )
    assert listed.status_code == 200 and listed.json()
