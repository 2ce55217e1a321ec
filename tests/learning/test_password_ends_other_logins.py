"""Changing the platform password ends the account's other platform logins, not the one used, and
leaves the person's management-system logins alone."""

from __future__ import annotations

import httpx

from services.context import Backend
from tests.learning.conftest import make_trainee
from tests.registry.signup import register_registry


async def test_new_password_logs_out_the_other_devices(client: httpx.AsyncClient, backend: Backend) -> None:
    trainee = await make_trainee(client, backend)
    again = await client.post(
        "/api/learning/login", json={"login": trainee.id_number, "password": trainee.phone}
    )
    other_device = {"Authorization": f"Bearer {again.json()['token']}"}
    made = await register_registry(
        client, name=trainee.name, id_number=trainee.id_number, phone=trainee.phone
    )
    assert made.status_code == 201, made.text
    registry = await client.post(
        "/api/registry/sessions", json={"login": trainee.id_number, "password": trainee.phone}
    )
    registry_auth = {"Authorization": f"Bearer {registry.json()['token']}"}

    refused = await client.put(
        "/api/learning/password",
        json={"old_password": "wrong-one-1", "new_password": "Jilin2026ok"},
        headers=trainee.headers,
    )
    assert refused.status_code == 401
    assert (await client.get("/api/learning/enrolments", headers=other_device)).status_code == 200

    changed = await client.put(
        "/api/learning/password",
        json={"old_password": trainee.phone, "new_password": "Jilin2026ok"},
        headers=trainee.headers,
    )
    assert changed.status_code == 204, changed.text
    assert (await client.get("/api/learning/enrolments", headers=trainee.headers)).status_code == 200
    gone = await client.get("/api/learning/enrolments", headers=other_device)
    assert gone.status_code == 401 and "重新登录" in gone.json()["error"]["message"]
    assert (await client.get("/api/registry/me", headers=registry_auth)).status_code == 200
