"""A phone gets at most ten verification codes a day, whoever asks for them."""

from __future__ import annotations

import httpx

from tests.conftest import FakeClock
from tests.people import make_phone


async def test_codes_per_phone_per_day_are_capped(client: httpx.AsyncClient, clock: FakeClock) -> None:
    phone = make_phone()
    for _ in range(10):
        sent = await client.post("/api/sms/codes", json={"phone": phone, "purpose": "bind_chat"})
        assert sent.status_code == 202
        clock.advance(seconds=61)
    refused = await client.post("/api/sms/codes", json={"phone": phone, "purpose": "register_learning"})
    assert refused.status_code == 429
    assert "明天再试" in refused.json()["error"]["message"]

    other = await client.post("/api/sms/codes", json={"phone": make_phone(), "purpose": "bind_chat"})
    assert other.status_code == 202, "another phone is not affected"

    clock.advance(hours=24)
    assert (
        await client.post("/api/sms/codes", json={"phone": phone, "purpose": "bind_chat"})
    ).status_code == 202
