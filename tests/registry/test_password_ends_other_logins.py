"""Changing the password ends the account's other logins; the one that changed it stays logged in."""

from __future__ import annotations

import httpx

from tests.people import make_id_number, make_phone
from tests.registry.test_accounts_api import login, register


async def test_new_password_logs_out_the_other_devices(client: httpx.AsyncClient) -> None:
    id_number, phone = make_id_number(), make_phone()
    assert (await register(client, id_number=id_number, phone=phone)).status_code == 201
    here, phone_app, old_laptop = [
        {"Authorization": f"Bearer {(await login(client, id_number, phone)).json()['token']}"}
        for _ in range(3)
    ]

    refused = await client.put(
        "/api/registry/password",
        json={"old_password": "wrong-one-1", "new_password": "Jilin2026ok"},
        headers=here,
    )
    assert refused.status_code == 401
    assert (await client.get("/api/registry/me", headers=phone_app)).status_code == 200, (
        "a refused change ends nothing"
    )

    changed = await client.put(
        "/api/registry/password", json={"old_password": phone, "new_password": "Jilin2026ok"}, headers=here
    )
    assert changed.status_code == 204
    assert (await client.get("/api/registry/me", headers=here)).status_code == 200
    for other in (phone_app, old_laptop):
        gone = await client.get("/api/registry/me", headers=other)
        assert gone.status_code == 401 and "重新登录" in gone.json()["error"]["message"]
